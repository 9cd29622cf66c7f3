"""Build the MIME message and hand it to the SMTP relay with aiosmtplib."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from uuid import UUID

import aiosmtplib

from bibmon_common.logging import EMAIL_RE
from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.rendering import PLATFORM_NAME, RenderedEmail

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]+")


class DeliveryError(Exception):
    """The relay did not take the e-mail; `permanent` says whether a retry can help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(scrub_addresses(message))
        self.permanent = permanent


def scrub_addresses(text: str) -> str:
    """Remove e-mail addresses from an error text: relays echo the recipient back."""
    return EMAIL_RE.sub("<address>", text)


def _header_safe(value: str) -> str:
    return " ".join(_CONTROL_RE.sub(" ", value).split())


def build_message(
    rendered: RenderedEmail,
    *,
    email_id: UUID,
    recipient_email: str,
    recipient_name: str | None,
    settings: NotifierSettings,
    now: datetime | None = None,
) -> EmailMessage:
    """A multipart/alternative message (text first, HTML preferred) with stable headers."""
    from_domain = settings.from_address.rpartition("@")[2] or "localhost"
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = Address(
        display_name=_header_safe(settings.from_name or PLATFORM_NAME),
        addr_spec=settings.from_address,
    )
    msg["To"] = Address(
        display_name=_header_safe(recipient_name or ""), addr_spec=recipient_email.strip()
    )
    msg["Subject"] = _header_safe(rendered.subject)
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    # One id per e-mail job, the same on every attempt, so a relay that saw an attempt
    # succeed after our timeout can recognise the duplicate (RFC 5322 §3.6.4).
    msg["Message-ID"] = f"<{email_id}@{from_domain}>"
    # RFC 3834: an automatic message; well-behaved autoresponders stay quiet.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(rendered.text, subtype="plain", charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    # After set_content, which drops every Content-* header (RFC 3282).
    msg["Content-Language"] = rendered.locale
    return msg


@dataclass
class SmtpSender:
    """Delivers messages to the configured relay, one connection per message."""

    settings: NotifierSettings

    async def send(self, message: EmailMessage) -> None:
        """Send or raise DeliveryError (4xx and connection trouble are temporary)."""
        s = self.settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                use_tls=s.smtp_implicit_tls,
                start_tls=s.smtp_starttls,
                validate_certs=s.smtp_validate_certs,
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryError(
                "; ".join(f"{r.code} {r.message}" for r in exc.recipients),
                permanent=all(500 <= c < 600 for c in codes),
            ) from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            # A wrong password is fixed by an operator, after which a retry helps.
            raise DeliveryError(f"{exc.code} {exc.message}", permanent=False) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"{exc.code} {exc.message}", permanent=500 <= exc.code < 600
            ) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
