"""The personal-data scanner finds what it must, where it must, and not ordinary words."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import pytest
from tests.security.pii_scan import Captured, pattern, scan_database, scan_logs, scan_messages

from bibmon_common.testing.db import fresh_database

pytestmark = pytest.mark.integration

PERSONS = ["Anna de Vries", "anna.devries@bieb.example", "anna-dv", "admin", "Jan"]


def test_needles_match_whole_words_and_skip_short_ones() -> None:
    needles = pattern(PERSONS)
    assert needles is not None
    assert needles.search("user anna-dv logged in")
    assert needles.search('{"to": "Anna.DeVries@bieb.example"}'.replace("DeVries", "devries"))
    assert not needles.search("user anna-dvx")  # another username
    assert not needles.search("role kb_admin, Januari")  # short needles are skipped


@pytest.mark.asyncio(loop_scope="session")
async def test_scan_database_finds_personal_data_in_text_and_jsonb_columns() -> None:
    async with fresh_database("bibmon_sec_pii") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(
                "CREATE TABLE note (id int, body text, meta jsonb, tags text[]);"
                "INSERT INTO note VALUES (1, 'nothing personal', '{\"a\": 1}', '{x}');"
                "INSERT INTO note VALUES (2, 'by Anna de Vries', '{}', '{}');"
                """INSERT INTO note VALUES (3, '', '{"to": "anna.devries@bieb.example"}', '{}');"""
                "INSERT INTO note VALUES (4, '', '{}', '{anna-dv}');"
            )
        finally:
            await conn.close()
        findings = await scan_database(dsn, PERSONS)
    where = {(f.where.split(".", 1)[1], f.needle) for f in findings}
    assert where == {
        ("note.body", "anna de vries"),
        ("note.meta", "anna.devries@bieb.example"),
        ("note.tags", "anna-dv"),
    }


def test_scan_logs_and_messages(tmp_path: Path) -> None:
    log = tmp_path / "surveys.log"
    log.write_text("ok\nlogin failed for anna-dv\n", encoding="utf-8")
    needles = pattern(PERSONS)
    assert [(f.where, f.needle) for f in scan_logs([log], needles)] == [
        ("surveys.log:2", "anna-dv")
    ]
    command = json.dumps({"type": "notifier.send_email.v1", "data": {"to": PERSONS[1]}}).encode()
    event = json.dumps({"type": "surveys.x.v1", "data": {"by": PERSONS[0]}}).encode()
    found = scan_messages(
        [
            Captured("bibmon.commands", "notifier.send_email.v1", command),
            Captured("bibmon.events", "surveys.x.v1", event),
        ],
        needles,
    )
    assert [(f.where, f.needle) for f in found] == [("bibmon.events surveys.x.v1", "anna de vries")]
