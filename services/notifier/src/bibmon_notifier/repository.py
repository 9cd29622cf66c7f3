"""Every SQL statement of the notifier."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bibmon_notifier.models import DeliveryState, DueEmail

# A connection of its own or one borrowed from the pool.
Conn = asyncpg.Connection | PoolConnectionProxy

NOTIFY_CHANNEL = "bibmon_notifier_email"

# Columns an operator may see: never the recipient or the context (links, names). A
# finished job has no next attempt.
PUBLIC_COLUMNS = (
    "id, template, locale, status, attempts, last_error, created_at, sent_at, "
    "CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at, "
    "expires_at, finished_at, subject_user_id, "
    "recipient_survey_id AS survey_id, recipient_organisation_id AS organisation_id"
)
# Whether the job still knows whom to send to: an address, or a reference plus its context.
_HAS_RECIPIENT = (
    "(recipient_email IS NOT NULL "
    "OR (recipient_organisation_id IS NOT NULL AND context IS NOT NULL))"
)
_PURGE = "recipient_email = NULL, recipient_name = NULL, context = NULL"


async def insert_job(
    conn: Conn,
    *,
    id: UUID,
    idempotency_key: str,
    template: str,
    locale: str,
    recipient_email: str | None,
    recipient_name: str | None,
    subject_user_id: UUID | None,
    context: dict[str, Any] | None,
    status: str,
    expires_at: datetime | None,
    last_error: str | None = None,
    recipient_survey_id: UUID | None = None,
    recipient_organisation_id: UUID | None = None,
) -> bool:
    """Insert a job unless its idempotency key is known; True when a row was written.

    A survey e-mail has no address: `recipient_survey_id` and `recipient_organisation_id`
    name the contact person, whom identity answers at send time.
    """
    inserted = await conn.fetchval(
        """
        INSERT INTO email_job (id, idempotency_key, template, locale, recipient_email,
                               recipient_name, subject_user_id, context, status, expires_at,
                               last_error, finished_at, recipient_survey_id,
                               recipient_organisation_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                CASE WHEN $9 = 'pending' THEN NULL ELSE now() END, $12, $13)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING 1
        """,
        id,
        idempotency_key,
        template,
        locale,
        recipient_email,
        recipient_name,
        subject_user_id,
        context,
        status,
        expires_at,
        last_error,
        recipient_survey_id,
        recipient_organisation_id,
    )
    return inserted is not None


async def notify_new_job(conn: Conn) -> None:
    """Wake the sender workers at commit (a hint; they also poll)."""
    await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)


async def claim_due_email(conn: Conn) -> DueEmail | None:
    """Lock one due pending job for this transaction; other workers skip it."""
    row = await conn.fetchrow(
        """
        SELECT id, template, locale, recipient_email, recipient_name, subject_user_id,
               context, attempts, created_at, expires_at,
               recipient_survey_id, recipient_organisation_id
        FROM email_job
        WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED
        """
    )
    return None if row is None else DueEmail.from_row(row)


async def lease(conn: Conn, email_id: UUID, seconds: float) -> datetime:
    """Hold the claimed e-mail while the relay takes it: due again only after `seconds`.

    Returns the lease: the new `next_attempt_at`, which only this attempt knows.
    """
    leased: datetime = await conn.fetchval(
        """
        UPDATE email_job SET next_attempt_at = clock_timestamp() + make_interval(secs => $2)
        WHERE id = $1
        RETURNING next_attempt_at
        """,
        email_id,
        float(seconds),
    )
    return leased


async def hold_lease(conn: Conn, email_id: UUID, leased: datetime) -> bool:
    """Lock the e-mail if it is still pending under this lease (nobody took it over)."""
    held = await conn.fetchval(
        """
        SELECT 1 FROM email_job
        WHERE id = $1 AND status = 'pending' AND next_attempt_at = $2
        FOR UPDATE
        """,
        email_id,
        leased,
    )
    return held is not None


async def mark_sent(conn: Conn, email_id: UUID) -> None:
    """Delivered: record it and forget the recipient (AVG art. 5(1)(c))."""
    await conn.execute(
        f"""
        UPDATE email_job
        SET status = 'sent', attempts = attempts + 1, sent_at = now(), finished_at = now(),
            last_error = NULL, {_PURGE}
        WHERE id = $1
        """,  # noqa: S608
        email_id,
    )


async def mark_expired(conn: Conn, email_id: UUID, reason: str) -> None:
    """Too late to send: never sent, recipient forgotten."""
    await conn.execute(
        f"""
        UPDATE email_job
        SET status = 'expired', finished_at = now(), last_error = $2, {_PURGE}
        WHERE id = $1
        """,  # noqa: S608
        email_id,
        reason,
    )


async def set_resolved_recipient(conn: Conn, email_id: UUID, user_id: UUID, locale: str) -> None:
    """Record whom a survey e-mail went to (a pseudonym) and in which language; no address."""
    await conn.execute(
        "UPDATE email_job SET subject_user_id = $2, locale = $3 WHERE id = $1",
        email_id,
        user_id,
        locale,
    )


async def mark_no_recipient(conn: Conn, email_id: UUID, reason: str) -> None:
    """Nobody to send a survey e-mail to; a kb_admin may retry after registering one."""
    await conn.execute(
        """
        UPDATE email_job
        SET status = 'no_recipient', attempts = attempts + 1, finished_at = now(),
            last_error = $2
        WHERE id = $1
        """,
        email_id,
        reason,
    )


async def mark_failed(conn: Conn, email_id: UUID, error: str, *, keep_recipient: bool) -> None:
    """Given up; the recipient stays only when an operator may still retry."""
    purge = "" if keep_recipient else f", {_PURGE}"
    await conn.execute(
        f"""
        UPDATE email_job
        SET status = 'failed', attempts = attempts + 1, finished_at = now(),
            last_error = $2{purge}
        WHERE id = $1
        """,  # noqa: S608
        email_id,
        error,
    )


async def schedule_retry(conn: Conn, email_id: UUID, error: str, delay_seconds: float) -> None:
    """A temporary failure: try again after `delay_seconds`."""
    await conn.execute(
        """
        UPDATE email_job
        SET attempts = attempts + 1, last_error = $2,
            next_attempt_at = now() + make_interval(secs => $3)
        WHERE id = $1
        """,
        email_id,
        error,
        float(delay_seconds),
    )


async def erase_subject(conn: Conn, user_id: UUID) -> int:
    """Forget everything personal about a user's e-mails; pending ones are never sent.

    A pending survey e-mail holds no address, only its reference: it stays pending and its
    next attempt asks identity again, which no longer answers the erased user.
    """
    result = await conn.execute(
        """
        UPDATE email_job
        SET recipient_email = NULL, recipient_name = NULL,
            context = CASE WHEN recipient_organisation_id IS NULL THEN NULL ELSE context END,
            status = CASE WHEN status = 'pending' THEN 'expired' ELSE status END,
            last_error = CASE WHEN status = 'pending' THEN 'recipient erased'
                              ELSE last_error END,
            finished_at = coalesce(finished_at, now())
        WHERE subject_user_id = $1
          AND NOT (status = 'pending' AND recipient_organisation_id IS NOT NULL)
          AND (recipient_email IS NOT NULL OR recipient_name IS NOT NULL
               OR (context IS NOT NULL AND recipient_organisation_id IS NULL)
               OR status = 'pending')
        """,
        user_id,
    )
    return int(result.split()[-1])


async def get_job(conn: Conn, email_id: UUID, *, for_update: bool = False) -> Any:
    """One job's public columns plus whether a recipient is still known."""
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"""
        SELECT {PUBLIC_COLUMNS}, {_HAS_RECIPIENT} AS has_recipient
        FROM email_job WHERE id = $1{lock}
        """,  # noqa: S608
        email_id,
    )


async def requeue(conn: Conn, email_id: UUID) -> None:
    """Make a failed job due again with a fresh retry schedule."""
    await conn.execute(
        """
        UPDATE email_job
        SET status = 'pending', attempts = 0, next_attempt_at = now(), finished_at = NULL
        WHERE id = $1
        """,
        email_id,
    )


async def list_jobs(
    conn: Conn, *, status: str | None, limit: int, before: datetime | None
) -> list[asyncpg.Record]:
    """Newest first, optionally one status, optionally older than `before` (paging)."""
    return await conn.fetch(
        f"""
        SELECT {PUBLIC_COLUMNS} FROM email_job
        WHERE ($1::text IS NULL OR status = $1)
          AND ($2::timestamptz IS NULL OR created_at < $2)
        ORDER BY created_at DESC, id
        LIMIT $3
        """,  # noqa: S608
        status,
        before,
        limit,
    )


async def purge_failed_recipients(conn: Conn, grace_seconds: float) -> int:
    """Forget recipients of failed jobs once the retry grace period is over."""
    result = await conn.execute(
        f"""
        UPDATE email_job SET {_PURGE}
        WHERE status <> 'pending'
          AND (recipient_email IS NOT NULL OR recipient_name IS NOT NULL
               OR context IS NOT NULL)
          AND (status NOT IN ('failed', 'no_recipient')
               OR finished_at < now() - make_interval(secs => $1))
        """,  # noqa: S608
        float(grace_seconds),
    )
    return int(result.split()[-1])


async def delete_old_jobs(conn: Conn, retention_days: int) -> int:
    """Drop delivery metadata older than the retention period."""
    result = await conn.execute(
        """
        DELETE FROM email_job WHERE created_at < now() - make_interval(days => $1)
        """,
        retention_days,
    )
    return int(result.split()[-1])


# --- survey read model -------------------------------------------------------------------


async def upsert_survey(
    conn: Conn, facts: dict[str, Any], *, now: datetime, facts_at: datetime
) -> None:
    """Record a survey's facts; newer facts (by event time `facts_at`) win.

    `now` is the notifier's clock: the first time it becomes `invited_at` and
    `deadline_set_at`; later, `deadline_set_at` only when newer facts move the deadline
    (reminder moments before it are never sent, see `due_reminders`).
    """
    await conn.execute(
        """
        INSERT INTO survey (survey_id, title, description, mandatory, legal_basis,
                            legal_basis_name, opens_at, closes_at, invited_at, facts_at,
                            deadline_set_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)
        ON CONFLICT (survey_id) DO UPDATE
        SET title = EXCLUDED.title, description = EXCLUDED.description,
            mandatory = EXCLUDED.mandatory, legal_basis = EXCLUDED.legal_basis,
            legal_basis_name = EXCLUDED.legal_basis_name, opens_at = EXCLUDED.opens_at,
            closes_at = EXCLUDED.closes_at, facts_at = EXCLUDED.facts_at,
            deadline_set_at = CASE WHEN survey.closes_at <> EXCLUDED.closes_at
                                   THEN EXCLUDED.deadline_set_at
                                   ELSE survey.deadline_set_at END
        WHERE survey.facts_at <= EXCLUDED.facts_at
        """,
        facts["survey_id"],
        facts["title"],
        facts["description"],
        facts["mandatory"],
        facts["legal_basis"],
        facts["legal_basis_name"],
        facts["opens_at"],
        facts["closes_at"],
        now,
        facts_at,
    )


async def add_participants(conn: Conn, survey_id: UUID, organisation_ids: list[UUID]) -> None:
    """The participating organisations (known ones are left as they are)."""
    await conn.execute(
        """
        INSERT INTO survey_participant (survey_id, organisation_id)
        SELECT $1, unnest($2::uuid[])
        ON CONFLICT DO NOTHING
        """,
        survey_id,
        organisation_ids,
    )


async def close_survey(conn: Conn, survey_id: UUID, closed_at: datetime) -> None:
    """The survey closed; no more reminders."""
    await conn.execute(
        "UPDATE survey SET closed_at = coalesce(closed_at, $2) WHERE survey_id = $1",
        survey_id,
        closed_at,
    )


async def get_survey(conn: Conn, survey_id: UUID) -> asyncpg.Record | None:
    """A survey's facts."""
    return await conn.fetchrow("SELECT * FROM survey WHERE survey_id = $1", survey_id)


async def set_submitted(
    conn: Conn, survey_id: UUID, organisation_id: UUID, *, submitted: bool, at: datetime
) -> None:
    """Whether the organisation has submitted, unless a later response event said otherwise."""
    await conn.execute(
        """
        INSERT INTO survey_participant (survey_id, organisation_id, submitted, status_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (survey_id, organisation_id) DO UPDATE
        SET submitted = EXCLUDED.submitted, status_at = EXCLUDED.status_at
        WHERE survey_participant.status_at IS NULL
           OR survey_participant.status_at <= EXCLUDED.status_at
        """,
        survey_id,
        organisation_id,
        submitted,
        at,
    )


async def has_submitted(conn: Conn, survey_id: UUID, organisation_id: UUID) -> bool:
    """True when the organisation's response is submitted as things stand."""
    return bool(
        await conn.fetchval(
            "SELECT submitted FROM survey_participant "
            "WHERE survey_id = $1 AND organisation_id = $2",
            survey_id,
            organisation_id,
        )
    )


async def due_reminders(conn: Conn, now: datetime, offsets: list[int]) -> list[asyncpg.Record]:
    """The reminders due now that do not exist yet, with their idempotency key.

    Per open survey (`opens_at <= now < closes_at`, not closed) and participating
    organisation that has not submitted: the due reminder is the *smallest* offset `d`
    with `now >= closes_at - d days` — after a jump in time past several moments only the
    latest, never a burst — unless that moment had already passed when the participants
    were invited or when the notifier learnt the current deadline (`deadline_set_at`): a
    moved deadline gets reminders only for its moments after the move, never one at
    once. Ordered, so a run that stopped half-way is continued in the same order.
    """
    return list(
        await conn.fetch(
            """
            SELECT * FROM (
                SELECT format('reminder:%s:%s:%s:%s', s.survey_id, p.organisation_id, due.days,
                              extract(epoch FROM s.closes_at)::bigint) AS idempotency_key,
                       s.survey_id, p.organisation_id, due.days, s.title, s.mandatory,
                       s.legal_basis, s.legal_basis_name, s.closes_at
                FROM survey s
                JOIN survey_participant p USING (survey_id)
                CROSS JOIN LATERAL (
                    SELECT min(d) AS days FROM unnest($2::int[]) AS d
                    WHERE $1 >= s.closes_at - make_interval(days => d)
                ) AS due
                WHERE s.closed_at IS NULL AND s.opens_at <= $1 AND s.closes_at > $1
                  AND NOT p.submitted
                  AND due.days IS NOT NULL
                  AND s.closes_at - make_interval(days => due.days)
                      > greatest(s.invited_at, s.deadline_set_at)
            ) AS due_now
            WHERE NOT EXISTS (
                SELECT 1 FROM email_job j WHERE j.idempotency_key = due_now.idempotency_key
            )
            ORDER BY survey_id, organisation_id
            """,
            now,
            offsets,
        )
    )


async def delivery_state(conn: Conn) -> DeliveryState:
    """Pending jobs, age of the oldest pending one, and failed jobs (for /metrics)."""
    row = await conn.fetchrow(
        """
        SELECT count(*) FILTER (WHERE status = 'pending')::bigint AS waiting,
               coalesce(extract(epoch FROM now() - min(created_at)
                        FILTER (WHERE status = 'pending')), 0)::float8 AS oldest_waiting,
               count(*) FILTER (WHERE status = 'failed')::bigint AS failed
        FROM email_job
        WHERE status IN ('pending', 'failed')
        """
    )
    assert row is not None  # an aggregate without GROUP BY always answers one row
    return DeliveryState(
        waiting=row["waiting"], oldest_waiting_seconds=row["oldest_waiting"], failed=row["failed"]
    )
