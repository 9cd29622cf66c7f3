"""From a send_email command on RabbitMQ to an e-mail at a real SMTP server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from bibmon_common.contracts.identity import UserErased
from bibmon_common.testing.smtp import SMTPCatcher
from bibmon_notifier.usecases import delivery

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

COMMANDS = "notifier.commands"
EVENTS = "notifier.events"


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def to(address: str) -> Any:
    return lambda m: m["To"].addresses[0].addr_spec == address


async def test_command_results_in_one_email_and_the_job_forgets_the_recipient(
    fresh_smtp: SMTPCatcher, publish: Any, make_command: Any, jobs: Any
) -> None:
    command = make_command()

    await publish(command)

    message = await fresh_smtp.wait_for(to(command.recipient_email))
    assert message["Subject"] == "Welkom bij Bibliotheekmonitor: stel je wachtwoord in"
    assert message["To"].addresses[0].display_name == "Anna de Boer"
    assert command.context["set_password_url"] in text_of(message)
    assert f'href="{command.context["set_password_url"]}"' in html_of(message)
    job = await jobs.wait_status(command.idempotency_key, "sent")
    assert message["Message-ID"] == f"<{job['id']}@bibliotheekmonitor.test>"
    assert job["recipient_email"] is None
    assert job["recipient_name"] is None
    assert job["context"] is None
    assert job["attempts"] == 1
    assert job["sent_at"] is not None
    sent = [
        e for e in await jobs.events("notifier.email.sent.v1") if e["email_id"] == str(job["id"])
    ]
    assert sent == [
        {
            "email_id": str(job["id"]),
            "template": "account_welcome",
            "subject_user_id": str(command.subject_user_id),
        }
    ]
    await asyncio.sleep(0.3)
    assert len(fresh_smtp.messages_to(command.recipient_email)) == 1


async def test_redelivered_command_sends_no_second_email(
    fresh_smtp: SMTPCatcher, publish: Any, make_command: Any, jobs: Any
) -> None:
    command = make_command(
        template="password_reset",
        context={
            "reset_url": "https://bibliotheekmonitor.test/reset#token=x",
            "expires_minutes": 30,
        },
    )
    first = await publish(command)
    await fresh_smtp.wait_for(to(command.recipient_email))

    # the same message again (a lost ack), and the same command re-sent by its producer
    await publish(command, message_id=first)
    again = await publish(command)
    await jobs.wait_processed(COMMANDS, again)
    await asyncio.sleep(0.3)

    assert len(fresh_smtp.messages_to(command.recipient_email)) == 1
    count = await jobs.pool.fetchval(
        "SELECT count(*) FROM email_job WHERE idempotency_key = $1", command.idempotency_key
    )
    assert count == 1


async def test_temporary_smtp_failure_is_retried_and_then_delivered(
    fresh_smtp: SMTPCatcher, publish: Any, make_command: Any, jobs: Any
) -> None:
    fresh_smtp.fail_next(2)  # 451 twice
    command = make_command(locale="en")

    await publish(command)

    message = await fresh_smtp.wait_for(to(command.recipient_email), timeout=5)
    assert message["Subject"] == "Welcome to Bibliotheekmonitor: set your password"
    job = await jobs.wait_status(command.idempotency_key, "sent")
    assert job["attempts"] == 3
    assert fresh_smtp.rejected == 2
    assert job["recipient_email"] is None


async def test_permanently_failing_relay_ends_as_failed_and_an_operator_can_retry(
    fresh_smtp: SMTPCatcher, publish: Any, make_command: Any, jobs: Any, api: Any, keys: Any
) -> None:
    fresh_smtp.fail_next(None)  # every delivery gets a 451
    command = make_command()

    await publish(command)

    job = await jobs.wait_status(command.idempotency_key, "failed")
    assert job["attempts"] == 3
    assert job["last_error"].startswith("451")
    failed = await jobs.events("notifier.email.failed.v1")
    assert str(job["id"]) in {e["email_id"] for e in failed}

    admin = keys.auth("kb_admin")
    listed = await api.get("/api/notifier/emails", params={"status": "failed"}, headers=admin)
    assert listed.status_code == 200
    item = next(i for i in listed.json()["items"] if i["id"] == str(job["id"]))
    assert item["status"] == "failed"
    assert item["attempts"] == 3
    assert item["template"] == "account_welcome"
    assert "recipient_email" not in item
    assert "@" not in listed.text.replace("@bibliotheekmonitor", "")

    fresh_smtp.stop_failing()
    retried = await api.post(f"/api/notifier/emails/{job['id']}/retry", headers=admin)
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "pending"
    await fresh_smtp.wait_for(to(command.recipient_email))
    job = await jobs.wait_status(command.idempotency_key, "sent")
    assert job["recipient_email"] is None


async def test_operator_endpoints_are_for_kb_admins_only(api: Any, keys: Any) -> None:
    staff = keys.auth("library_staff")

    assert (await api.get("/api/notifier/emails")).status_code == 401
    assert (await api.get("/api/notifier/emails", headers=staff)).status_code == 403
    retry = await api.post(f"/api/notifier/emails/{uuid.uuid4()}/retry", headers=staff)
    assert retry.status_code == 403


async def test_refused_recipient_fails_at_once_and_is_forgotten(
    fresh_smtp: SMTPCatcher, publish: Any, make_command: Any, jobs: Any, api: Any, keys: Any
) -> None:
    command = make_command()
    fresh_smtp.fail_next(1, reply=f"550 5.1.1 <{command.recipient_email}>: no such user")

    await publish(command)

    job = await jobs.wait_status(command.idempotency_key, "failed")
    assert job["attempts"] == 1
    assert job["recipient_email"] is None
    assert command.recipient_email not in job["last_error"]
    admin = keys.auth("kb_admin")
    retry = await api.post(f"/api/notifier/emails/{job['id']}/retry", headers=admin)
    assert retry.status_code == 409
    assert retry.headers["content-type"].startswith("application/problem+json")


async def test_command_that_arrives_expired_is_never_sent(
    fresh_smtp: SMTPCatcher, publish: Any, make_command: Any, jobs: Any
) -> None:
    command = make_command(expires_at=datetime.now(UTC) - timedelta(minutes=1))

    await publish(command)

    job = await jobs.wait_status(command.idempotency_key, "expired")
    assert job["recipient_email"] is None
    assert job["context"] is None
    await asyncio.sleep(0.3)
    assert fresh_smtp.messages_to(command.recipient_email) == []


async def test_email_that_expires_while_waiting_for_the_relay_is_not_sent(
    fresh_smtp: SMTPCatcher, publish: Any, make_command: Any, jobs: Any
) -> None:
    fresh_smtp.fail_next(None)
    command = make_command(expires_at=datetime.now(UTC) + timedelta(seconds=0.45))

    await publish(command)

    job = await jobs.wait_status(command.idempotency_key, "expired", "failed")
    assert job["status"] == "expired"
    assert job["recipient_email"] is None
    fresh_smtp.stop_failing()
    await asyncio.sleep(0.3)
    assert fresh_smtp.messages_to(command.recipient_email) == []


async def test_invalid_context_fails_without_retry(
    fresh_smtp: SMTPCatcher, publish: Any, make_command: Any, jobs: Any
) -> None:
    command = make_command(template="password_reset", context={"expires_minutes": 30})

    await publish(command)

    job = await jobs.wait_status(command.idempotency_key, "failed")
    assert "reset_url" in job["last_error"]
    assert job["recipient_email"] is None
    assert fresh_smtp.attempts == 0


async def test_erased_user_pending_emails_lose_their_addresses(
    publish: Any, jobs: Any, pool: Any
) -> None:
    user, other = uuid.uuid4(), uuid.uuid4()
    later = datetime.now(UTC) + timedelta(hours=1)
    for key, subject in (("erase-me", user), ("keep-me", other)):
        await pool.execute(
            """
            INSERT INTO email_job (id, idempotency_key, template, locale, recipient_email,
                                   recipient_name, subject_user_id, context, next_attempt_at)
            VALUES ($1, $2, 'password_changed', 'nl', 'x@bibliotheek.test', 'X', $3,
                    '{"a": 1}'::jsonb, $4)
            """,
            uuid.uuid4(),
            f"{key}:{user}",
            subject,
            later,
        )

    message_id = await publish(UserErased(user_id=user))
    await jobs.wait_processed(EVENTS, message_id)

    erased = await jobs.by_key(f"erase-me:{user}")
    assert (erased["recipient_email"], erased["recipient_name"], erased["context"]) == (
        None,
        None,
        None,
    )
    assert erased["status"] == "expired"
    kept = await jobs.by_key(f"keep-me:{user}")
    assert kept["recipient_email"] == "x@bibliotheek.test"
    assert kept["status"] == "pending"
    await pool.execute("DELETE FROM email_job WHERE idempotency_key = $1", f"keep-me:{user}")


async def test_retention_forgets_failed_recipients_and_drops_old_rows(ctx: Any, pool: Any) -> None:
    old, failed = uuid.uuid4(), uuid.uuid4()
    await pool.execute(
        """
        INSERT INTO email_job (id, idempotency_key, template, locale, status, created_at,
                               finished_at)
        VALUES ($1, $2, 'password_changed', 'nl', 'sent', now() - interval '91 days',
                now() - interval '91 days')
        """,
        old,
        f"old:{old}",
    )
    await pool.execute(
        """
        INSERT INTO email_job (id, idempotency_key, template, locale, status, recipient_email,
                               created_at, finished_at)
        VALUES ($1, $2, 'password_changed', 'nl', 'failed', 'x@bibliotheek.test',
                now() - interval '8 days', now() - interval '8 days')
        """,
        failed,
        f"failed:{failed}",
    )

    await delivery.purge(ctx.deps)

    assert await pool.fetchval("SELECT count(*) FROM email_job WHERE id = $1", old) == 0
    row = await pool.fetchrow("SELECT status, recipient_email FROM email_job WHERE id = $1", failed)
    assert row["status"] == "failed"
    assert row["recipient_email"] is None
