"""SMTPCatcher, the loopback SMTP server every service's tests use."""

from __future__ import annotations

import smtplib

import aiosmtplib
import pytest

from bibmon_common.testing.smtp import SMTPCatcher

MESSAGE = (
    "From: a@bibliotheekmonitor.nl\r\nTo: b@bibliotheek-eindhoven.nl\r\nSubject: {}\r\n\r\nDag\r\n"
)


def test_catcher_works_from_sync_code_on_a_free_port() -> None:
    with SMTPCatcher() as smtp, smtplib.SMTP(smtp.host, smtp.port) as client:
        assert smtp.port > 0
        client.sendmail(
            "a@bibliotheekmonitor.nl", ["b@bibliotheek-eindhoven.nl"], MESSAGE.format("x")
        )

        (delivery,) = smtp.deliveries
        assert delivery.rcpt_tos == ("b@bibliotheek-eindhoven.nl",)
        assert delivery.message["Subject"] == "x"
        assert smtp.messages_to("B@bibliotheek-eindhoven.nl") == [delivery.message]


@pytest.mark.asyncio(loop_scope="session")
async def test_catcher_fails_the_next_deliveries_on_request() -> None:
    async with SMTPCatcher() as smtp:
        smtp.fail_next(1)
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await aiosmtplib.send(
                MESSAGE.format("first"),
                sender="a@bibliotheekmonitor.nl",
                recipients=["b@bibliotheek-eindhoven.nl"],
                hostname=smtp.host,
                port=smtp.port,
            )
        assert refused.value.code == 451
        await aiosmtplib.send(
            MESSAGE.format("second"),
            sender="a@bibliotheekmonitor.nl",
            recipients=["b@bibliotheek-eindhoven.nl"],
            hostname=smtp.host,
            port=smtp.port,
        )

        message = await smtp.wait_for(lambda m: m["Subject"] == "second", timeout=2)
        assert message["Subject"] == "second"
        assert (smtp.attempts, smtp.rejected) == (2, 1)
        with pytest.raises(TimeoutError):
            await smtp.wait_for(lambda m: m["Subject"] == "never", timeout=0.1)
