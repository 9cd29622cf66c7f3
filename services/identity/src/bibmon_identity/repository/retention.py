"""The retention schedule."""

# SQL text here is assembled only from constants of this module and column names checked
# against allow-lists; every value is a bind parameter.

from __future__ import annotations

from datetime import datetime

from bibmon_identity.repository._sql import Conn, affected_rows


async def purge(
    conn: Conn,
    *,
    audit_before: datetime,
    audit_origin_before: datetime,
    rejected_before: datetime,
    pending_before: datetime,
) -> dict[str, int]:
    """Delete what the retention schedule no longer allows (docs/reliability.md 6, ADR 0016)."""
    statements = {
        "password_tokens": "DELETE FROM password_tokens WHERE expires_at < now() "
        "OR used_at < now() - interval '1 day'",
        "refresh_tokens": "DELETE FROM refresh_tokens WHERE family_expires_at < now() "
        "OR revoked_at < now() - interval '1 day'",
        "mfa_challenges": "DELETE FROM mfa_challenges WHERE expires_at < now()",
        "rate_events": "DELETE FROM rate_events WHERE occurred_at < now() - interval '1 day'",
        "login_throttle": "DELETE FROM login_throttle WHERE last_failure_at < now() - "
        "interval '1 day' AND (locked_until IS NULL OR locked_until < now())",
        "login_known_addresses": "DELETE FROM login_known_addresses "
        "WHERE last_success_at < now() - interval '90 days'",
    }
    counts = {table: affected_rows(await conn.execute(sql)) for table, sql in statements.items()}
    counts["account_requests"] = affected_rows(
        await conn.execute(
            "DELETE FROM account_requests WHERE status = 'rejected' AND decided_at < $1",
            rejected_before,
        )
    )
    counts["pending_account_requests"] = affected_rows(
        await conn.execute(
            "DELETE FROM account_requests WHERE status = 'pending' AND created_at < $1",
            pending_before,
        )
    )
    counts["audit_log"] = affected_rows(
        await conn.execute("DELETE FROM audit_log WHERE occurred_at < $1", audit_before)
    )
    counts["audit_log_origins"] = affected_rows(
        await conn.execute(
            "UPDATE audit_log SET origin = NULL WHERE occurred_at < $1 AND origin IS NOT NULL",
            audit_origin_before,
        )
    )
    return counts
