"""A real SMTP server on loopback for tests: every accepted message is kept in memory.

    async with SMTPCatcher() as smtp:            # or `with SMTPCatcher() as smtp:`
        settings = Settings(smtp_host=smtp.host, smtp_port=smtp.port)
        ...
        msg = await smtp.wait_for(lambda m: m["To"].addresses[0].addr_spec == "a@b.nl")
        smtp.fail_next(2)                         # the next two deliveries get a 451
        smtp.while_receiving(hook)                # the next DATA first awaits hook()

The server is aiosmtpd's threaded Controller on 127.0.0.1 with a free port, so it works
from sync and async tests alike and does not depend on the test's event loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

Predicate = Callable[[EmailMessage], bool]

DEFAULT_FAIL_REPLY = "451 4.3.0 Temporary failure, try again later"


@dataclass(frozen=True)
class Delivery:
    """One accepted message with its SMTP envelope."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes


class _FreePortController(Controller):
    """Binds port 0 and learns the real port before aiosmtpd's readiness probe."""

    def _trigger_server(self) -> None:
        server = self.server
        if self.port == 0 and isinstance(server, asyncio.Server):
            self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _Handler:
    # aiosmtpd inspects every attribute of its handler, so the catcher is not the handler.
    def __init__(self, catcher: SMTPCatcher) -> None:
        self.catcher = catcher

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        hook = self.catcher._take_hook()
        if hook is not None:
            await hook()  # the sender waits for the reply meanwhile
        return self.catcher._receive(envelope)


class SMTPCatcher:
    """Loopback SMTP server collecting messages; can answer 4xx/5xx on demand."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._requested_port = port
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._fail_remaining: int | None = 0
        self._fail_reply = DEFAULT_FAIL_REPLY
        self.attempts = 0
        self.rejected = 0
        self._hook: Callable[[], Awaitable[None]] | None = None
        self._controller: _FreePortController | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> SMTPCatcher:
        """Start listening; `port` is known afterwards."""
        controller = _FreePortController(
            _Handler(self), hostname=self.host, port=self._requested_port, ready_timeout=5.0
        )
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop the server thread."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._controller is None:
            raise RuntimeError("SMTPCatcher is not started")
        return int(self._controller.port)

    def __enter__(self) -> SMTPCatcher:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> SMTPCatcher:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    # -- what tests look at ----------------------------------------------------------
    @property
    def deliveries(self) -> list[Delivery]:
        """Accepted messages with their envelopes, oldest first (a copy)."""
        with self._lock:
            return list(self._deliveries)

    @property
    def messages(self) -> list[EmailMessage]:
        """Accepted messages, parsed, oldest first (a copy)."""
        return [d.message for d in self.deliveries]

    def clear(self) -> None:
        """Forget every message and counter; stop failing."""
        with self._lock:
            self._deliveries.clear()
            self._fail_remaining = 0
            self._fail_reply = DEFAULT_FAIL_REPLY
            self.attempts = 0
            self.rejected = 0
            self._hook = None

    def messages_to(self, address: str) -> list[EmailMessage]:
        """Messages whose envelope names this recipient (case-insensitive)."""
        wanted = address.lower()
        return [d.message for d in self.deliveries if wanted in (r.lower() for r in d.rcpt_tos)]

    async def wait_for(
        self,
        predicate: Predicate | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the documented test helper signature
    ) -> EmailMessage:
        """Wait until a message matching `predicate` (any message if None) has arrived."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages:
                if predicate is None or predicate(message):
                    return message
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"no matching e-mail within {timeout} s ({len(self.messages)} received)"
                )
            await asyncio.sleep(0.02)

    async def wait_for_count(
        self,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - same shape as wait_for
    ) -> list[EmailMessage]:
        """Wait until at least `count` messages have arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while len(messages := self.messages) < count:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{len(messages)} of {count} e-mails within {timeout} s")
            await asyncio.sleep(0.02)
        return messages

    # -- failure injection -----------------------------------------------------------
    def fail_next(self, count: int | None = 1, *, reply: str | None = None) -> None:
        """Refuse the next `count` deliveries (None: all, until `stop_failing`).

        `reply` is the full SMTP reply, default `451 4.3.0 …` (temporary); give a 5xx
        reply such as `550 5.1.1 No such user` for a permanent refusal.
        """
        with self._lock:
            self._fail_remaining = count
            self._fail_reply = reply or DEFAULT_FAIL_REPLY

    def stop_failing(self) -> None:
        """Accept deliveries again."""
        self.fail_next(0)

    def while_receiving(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Await `hook()` during the next delivery, before the reply (once).

        It runs on the server's own event loop while the sender waits for the reply to
        its DATA: the moment to break something on the sender's side.
        """
        with self._lock:
            self._hook = hook

    def _take_hook(self) -> Callable[[], Awaitable[None]] | None:
        with self._lock:
            hook, self._hook = self._hook, None
        return hook

    def _receive(self, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        with self._lock:
            self.attempts += 1
            if self._fail_remaining is None or self._fail_remaining > 0:
                if self._fail_remaining is not None:
                    self._fail_remaining -= 1
                self.rejected += 1
                return self._fail_reply
            message: Any = message_from_bytes(raw, policy=policy.default)
            self._deliveries.append(
                Delivery(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    message=message,
                    raw=raw,
                )
            )
        return "250 2.0.0 Message accepted for delivery"
