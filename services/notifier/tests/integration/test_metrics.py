"""The notifier's e-mail metrics on /metrics: sent, failed, waiting, from real deliveries."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bibmon_common.testing.smtp import SMTPCatcher

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def scrape(api: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = await api.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(resp.text)
        for s in family.samples
    }


def sent(m: dict, template: str) -> float:
    return m.get(("bibmon_emails_sent_total", (("template", template),)), 0.0)


def failed(m: dict, template: str) -> float:
    return m.get(("bibmon_emails_failed_total", (("template", template),)), 0.0)


async def test_sent_and_failed_emails_are_counted_and_failed_ones_stay_visible(
    fresh_smtp: SMTPCatcher, publish: Any, make_command: Any, jobs: Any, api: Any
) -> None:
    before = await scrape(api)

    ok = make_command()
    await publish(ok)
    await jobs.wait_status(ok.idempotency_key, "sent")
    fresh_smtp.fail_next(None)  # the relay refuses from now on: retries, then failed
    bad = make_command()
    await publish(bad)
    await jobs.wait_status(bad.idempotency_key, "failed")
    fresh_smtp.stop_failing()

    after = await scrape(api)
    assert sent(after, "account_welcome") == sent(before, "account_welcome") + 1
    assert failed(after, "account_welcome") == failed(before, "account_welcome") + 1
    retried = ("bibmon_emails_retried_total", (("template", "account_welcome"),))
    assert after[retried] >= before.get(retried, 0.0) + 2  # three attempts, two rescheduled
    stored = await jobs.pool.fetchval("SELECT count(*) FROM email_job WHERE status = 'failed'")
    assert stored >= 1
    assert after[("bibmon_emails_failed_stored", ())] == stored
    waiting = await jobs.pool.fetchval("SELECT count(*) FROM email_job WHERE status = 'pending'")
    assert after[("bibmon_emails_waiting", ())] == waiting
    # The notifier's queues have a consumer, and the broker connection is up.
    assert after[("bibmon_consumer_up", (("queue", "notifier.commands"),))] == 1
    assert after[("bibmon_broker_connected", ())] == 1
    processed = (
        "bibmon_messages_consumed_total",
        (("outcome", "processed"), ("queue", "notifier.commands")),
    )
    assert after[processed] >= before.get(processed, 0.0) + 2
    # No address or name of the recipients in any sample.
    text = (await api.get("/metrics")).text
    assert ok.recipient_email not in text
    assert bad.recipient_email not in text
