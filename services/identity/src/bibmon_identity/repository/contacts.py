"""Contact persons of surveys, and whom a survey's e-mails reach."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from bibmon_identity.repository._sql import Conn, each, one


@dataclass(frozen=True)
class ContactRow:
    """The contact person of an organisation for a survey."""

    survey_id: uuid.UUID
    organisation_id: uuid.UUID
    user_id: uuid.UUID
    assigned_at: datetime
    username: str
    name: str


@dataclass(frozen=True)
class RecipientRow:
    """Whom a survey's e-mails for an organisation reach, and why."""

    user_id: uuid.UUID
    email: str
    name: str
    locale: str
    source: str


@dataclass(frozen=True)
class ContactRegistrationRow:
    """One survey for which a user is an organisation's contact person (export)."""

    survey_id: uuid.UUID
    organisation_id: uuid.UUID
    assigned_at: datetime


async def get_contact(
    conn: Conn, survey_id: uuid.UUID, organisation_id: uuid.UUID
) -> ContactRow | None:
    """The contact person of an organisation for a survey."""
    row = await conn.fetchrow(
        "SELECT c.survey_id, c.organisation_id, c.user_id, c.assigned_at, u.username, u.name "
        "FROM survey_contacts c JOIN users u ON u.id = c.user_id "
        "WHERE c.survey_id = $1 AND c.organisation_id = $2",
        survey_id,
        organisation_id,
    )
    return one(ContactRow, row)


async def upsert_contact(
    conn: Conn,
    survey_id: uuid.UUID,
    organisation_id: uuid.UUID,
    user_id: uuid.UUID,
    assigned_by: uuid.UUID,
) -> None:
    """Register (or replace) the contact person."""
    await conn.execute(
        """
        INSERT INTO survey_contacts (survey_id, organisation_id, user_id, assigned_by)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (survey_id, organisation_id)
        DO UPDATE SET user_id = EXCLUDED.user_id, assigned_by = EXCLUDED.assigned_by,
                      assigned_at = now()
        """,
        survey_id,
        organisation_id,
        user_id,
        assigned_by,
    )


async def survey_recipient(
    conn: Conn, survey_id: uuid.UUID, organisation_id: uuid.UUID
) -> RecipientRow | None:
    """Who receives a survey's e-mails for an organisation, as things stand now.

    The contact person registered for the survey, else the organisation's primary
    contact; only an active user of that organisation who has an e-mail address.
    """
    row = await conn.fetchrow(
        """
        SELECT id AS user_id, email, name, locale, source FROM (
            SELECT u.id, u.email, u.name, u.locale, 'survey_contact' AS source, 1 AS rank
            FROM survey_contacts c JOIN users u ON u.id = c.user_id
            WHERE c.survey_id = $1 AND c.organisation_id = $2
              AND u.organisation_id = $2 AND NOT u.disabled AND u.email IS NOT NULL
            UNION ALL
            SELECT u.id, u.email, u.name, u.locale, 'primary_contact' AS source, 2 AS rank
            FROM organisations o JOIN users u ON u.id = o.primary_contact_user_id
            WHERE o.id = $2
              AND u.organisation_id = $2 AND NOT u.disabled AND u.email IS NOT NULL
        ) AS candidates
        ORDER BY rank
        LIMIT 1
        """,
        survey_id,
        organisation_id,
    )
    return one(RecipientRow, row)


async def contacts_of_user(conn: Conn, user_id: uuid.UUID) -> list[ContactRegistrationRow]:
    """Contact-person registrations of a user (export)."""
    rows = await conn.fetch(
        "SELECT survey_id, organisation_id, assigned_at FROM survey_contacts "
        "WHERE user_id = $1 ORDER BY assigned_at",
        user_id,
    )
    return each(ContactRegistrationRow, rows)
