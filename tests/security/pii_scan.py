"""Look for people's personal data where none may be: databases, log files, broker messages.

The needles are the e-mail addresses, usernames and names of the people identity knows
(users and account requests). Only identity holds them; the responses, surveys and
reporting databases, every log line, every event and every export must not, and only the
notifier's own commands (`notifier.send_email.v1`, which carry a recipient) may.

    persons = await people(identity_dsn); needles = pattern(persons)
    findings = await scan_database(dsn, persons) + scan_logs(paths, needles)
    with BrokerCapture(amqp_url) as capture: ...; scan_messages(capture.messages, needles)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg

# Exchanges whose messages are scanned; commands may name their recipient only.
EXCHANGES = ("bibmon.events", "bibmon.commands", "bibmon.exports")
MAY_NAME_A_PERSON = frozenset({"notifier.send_email.v1"})
# Shorter needles ("admin", a first name alone) match ordinary words; they are skipped.
MIN_NEEDLE = 6
_TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "ARRAY", "USER-DEFINED")


@dataclass(frozen=True)
class Finding:
    """Personal data found: where, and which needle (never the surrounding text)."""

    where: str
    needle: str


def _alternatives(needles: Iterable[str]) -> str | None:
    usable = sorted({n.strip() for n in needles if n and len(n.strip()) >= MIN_NEEDLE}, key=len)
    # Longest first, so an address wins over the username inside it.
    return "|".join(re.escape(n) for n in reversed(usable)) or None


def pattern(needles: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex for all needles, matched as whole words."""
    alternatives = _alternatives(needles)
    if alternatives is None:
        return None
    return re.compile(rf"(?<![\w.@-])(?:{alternatives})(?![\w@-]|\.\w)", re.IGNORECASE)


def scan_text(where: str, text: str, needles: re.Pattern[str] | None) -> list[Finding]:
    """Every distinct needle in `text`."""
    if needles is None:
        return []
    found = {m.group(0).lower() for m in needles.finditer(text)}
    return [Finding(where, n) for n in sorted(found)]


async def people(identity_dsn: str) -> list[str]:
    """The e-mail addresses, usernames and names identity holds."""
    conn = await asyncpg.connect(identity_dsn)
    try:
        rows = await conn.fetch(
            "SELECT username AS a, name AS b, email AS c FROM users"
            " UNION ALL SELECT NULL, name, email FROM account_requests"
        )
    finally:
        await conn.close()
    return sorted({v for r in rows for v in (r["a"], r["b"], r["c"]) if v})


async def scan_database(dsn: str, persons: Iterable[str]) -> list[Finding]:
    """Every text, json(b) and array column of every table in the public schema."""
    persons = list(persons)
    needles, prefilter = pattern(persons), _alternatives(persons)
    if needles is None or prefilter is None:
        return []
    findings: list[Finding] = []
    conn = await asyncpg.connect(dsn)
    try:
        columns = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " JOIN information_schema.tables USING (table_schema, table_name)"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            " AND data_type = ANY($1::text[])",
            list(_TEXT_TYPES),
        )
        database = dsn.rsplit("/", 1)[-1]
        for column in columns:
            table, name = column["table_name"], column["column_name"]
            # Identifiers from the catalogue, quoted; the regex is a bind parameter.
            query = f'SELECT "{name}"::text AS v FROM "{table}" WHERE "{name}"::text ~* $1'
            # PostgreSQL narrows down (no look-around there); Python checks word bounds.
            for row in await conn.fetch(query, prefilter):
                findings += scan_text(f"{database}.{table}.{name}", row["v"], needles)
    finally:
        await conn.close()
    return sorted(set(findings), key=lambda f: (f.where, f.needle))


def scan_logs(paths: Iterable[Path], needles: re.Pattern[str] | None) -> list[Finding]:
    """Every line of every file."""
    findings: list[Finding] = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                findings += scan_text(f"{path.name}:{number}", line, needles)
    return findings


@dataclass
class Captured:
    """One message as it crossed the broker."""

    exchange: str
    routing_key: str
    body: bytes

    @property
    def type(self) -> str:
        with contextlib.suppress(ValueError, AttributeError):
            return str(json.loads(self.body).get("type", self.routing_key))
        return self.routing_key


def scan_messages(messages: Iterable[Captured], needles: re.Pattern[str] | None) -> list[Finding]:
    """Every message body, but the commands that may name their recipient."""
    findings: list[Finding] = []
    for message in messages:
        if message.exchange == "bibmon.commands" and message.type in MAY_NAME_A_PERSON:
            continue
        text = message.body.decode("utf-8", errors="replace")
        findings += scan_text(f"{message.exchange} {message.type}", text, needles)
    return findings


@dataclass
class BrokerCapture:
    """Copies of every message on the platform's exchanges, from a queue of our own."""

    amqp_url: str
    messages: list[Captured] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _ready: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _error: list[BaseException] = field(default_factory=list)

    async def _run(self) -> None:
        connection = await aio_pika.connect_robust(self.amqp_url)
        try:
            channel = await connection.channel()
            queue = await channel.declare_queue(exclusive=True, auto_delete=True)
            for exchange in EXCHANGES:
                await queue.bind(exchange, routing_key="#")

            async def on_message(message: Any) -> None:
                async with message.process():
                    self.messages.append(
                        Captured(message.exchange or "", message.routing_key or "", message.body)
                    )

            await queue.consume(on_message)
            self._ready.set()
            await asyncio.to_thread(self._stop.wait)
            await asyncio.sleep(0.5)  # what is in flight
        finally:
            await connection.close()

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:
            self._error.append(exc)
            self._ready.set()

    def __enter__(self) -> BrokerCapture:
        self._thread = threading.Thread(target=self._main, name="pii-capture", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error:
            raise self._error[0]
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
