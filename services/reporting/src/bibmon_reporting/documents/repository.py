"""SQL of the rendered-document cache (`rendered_document`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from bibmon_reporting.repository import Conn, Row


async def get_document(
    conn: Conn, survey_id: UUID, organisation_id: UUID, kind: str, locale: str
) -> Row | None:
    """The cached rendering of this kind and locale, whatever figures it was drawn from."""
    return await conn.fetchrow(
        """
        SELECT computed_at, report_sha256, body, rendered_at
          FROM rendered_document
         WHERE survey_id = $1 AND organisation_id = $2 AND kind = $3 AND locale = $4
        """,
        survey_id,
        organisation_id,
        kind,
        locale,
    )


async def store_document(
    conn: Conn,
    *,
    survey_id: UUID,
    organisation_id: UUID,
    kind: str,
    locale: str,
    computed_at: datetime,
    report_sha256: str,
    body: bytes,
) -> None:
    """Keep a rendering; one drawn from older figures never replaces a newer one."""
    await conn.execute(
        """
        INSERT INTO rendered_document
            (survey_id, organisation_id, kind, locale, computed_at, report_sha256, body)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (survey_id, organisation_id, kind, locale) DO UPDATE
           SET computed_at = excluded.computed_at,
               report_sha256 = excluded.report_sha256,
               body = excluded.body,
               rendered_at = now()
         WHERE rendered_document.computed_at <= excluded.computed_at
        """,
        survey_id,
        organisation_id,
        kind,
        locale,
        computed_at,
        report_sha256,
        body,
    )
