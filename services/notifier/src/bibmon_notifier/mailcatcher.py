"""Local mail catcher for `make run`: an SMTP server that writes every message to a file.

    python -m bibmon_notifier.mailcatcher --port 8025 --dir var/mail

Each message becomes one RFC 5322 `.eml` file named `<UTC time>-<counter>-<random>.eml`,
so `ls` lists them in arrival order. Files are written to a temporary name and renamed,
so a reader never sees half a message.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

DEFAULT_PORT = 8025
DEFAULT_DIR = "var/mail"
MAX_MESSAGE_BYTES = 25 * 1024 * 1024


class MaildirWriter:
    """aiosmtpd handler: one `.eml` file per accepted message."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._counter = itertools.count()

    def _file_name(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return f"{stamp}-{next(self._counter) % 1_000_000:06d}-{secrets.token_hex(3)}.eml"

    def write(self, envelope: Envelope) -> Path:
        """Write the message atomically (temp file, fsync, rename) and return its path."""
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        # Trace headers as a delivering MTA would add them (RFC 5321 §4.4), so the
        # envelope recipients (e.g. Bcc) are visible in the file.
        trace = f"Return-Path: <{envelope.mail_from or ''}>\r\n".encode()
        trace += b"".join(f"X-Envelope-To: <{rcpt}>\r\n".encode() for rcpt in envelope.rcpt_tos)
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / self._file_name()
        temp = self.directory / f".{final.name}.tmp"
        with open(temp, "wb") as fh:
            fh.write(trace + raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, final)
        return final

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        path = await asyncio.to_thread(self.write, envelope)
        print(f"mailcatcher: {path.name}", flush=True)
        return "250 2.0.0 Message accepted for delivery"


async def start_server(
    directory: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT
) -> asyncio.Server:
    """Start the catcher on the running loop; the caller closes the returned server."""
    handler = MaildirWriter(directory)
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(handler, data_size_limit=MAX_MESSAGE_BYTES, hostname="mailcatcher"),
        host=host,
        port=port,
    )


async def serve(directory: Path, host: str, port: int) -> None:
    """Run until SIGINT or SIGTERM."""
    server = await start_server(directory, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    bound = server.sockets[0].getsockname()[1] if server.sockets else port
    print(f"mailcatcher: smtp://{host}:{bound} → {directory}", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Write every e-mail received to an .eml file.")
    parser.add_argument("--host", default=os.environ.get("BIBMON_MAIL_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("BIBMON_MAIL_PORT", DEFAULT_PORT))
    )
    parser.add_argument(
        "--dir", type=Path, default=Path(os.environ.get("BIBMON_MAIL_DIR", DEFAULT_DIR))
    )
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.dir.resolve(), args.host, args.port))
    except OSError as exc:
        print(f"mailcatcher: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
