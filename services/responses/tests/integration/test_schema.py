"""The responses database is keyed by organisation only: no column for a person."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.integration

# The kernel's outbox and inbox hold message envelopes and ids, no person.
KERNEL_TABLES = {"outbox", "inbox", "alembic_version"}
PERSONAL = re.compile(
    r"(^|_)(user|users|username|email|e_mail|mail|name|firstname|lastname|phone|person)(_|$)"
    r"|_by$|^by_"
)


@pytest.mark.asyncio(loop_scope="session")
async def test_no_column_names_a_user_or_holds_a_name_or_email(pool):
    rows = await pool.fetch(
        """
        SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public'
        """
    )
    tables = {r["table_name"] for r in rows}
    assert {"survey", "response", "response_answer", "response_submission"} <= tables
    offending = [
        f"{r['table_name']}.{r['column_name']}"
        for r in rows
        if r["table_name"] not in KERNEL_TABLES and PERSONAL.search(r["column_name"])
    ]
    assert offending == []


def test_the_pattern_catches_what_it_should():
    for column in (
        "user_id",
        "created_by",
        "updated_by",
        "email",
        "name",
        "username",
        "contact_email",
        "submitted_by",
        "organisation_name",
    ):
        assert PERSONAL.search(column), column
    for column in ("organisation_id", "survey_id", "question", "remark", "submission"):
        assert not PERSONAL.search(column), column
