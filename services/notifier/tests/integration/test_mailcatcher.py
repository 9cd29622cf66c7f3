"""The mail catcher of `make run` writes every message as a parseable .eml file."""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import aiosmtplib
import pytest

from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.mail import build_message
from bibmon_notifier.mailcatcher import start_server
from bibmon_notifier.rendering import Renderer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def test_mail_catcher_writes_one_parseable_eml_per_message(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "mail", port=0)
    port = server.sockets[0].getsockname()[1]
    settings = NotifierSettings(from_address="noreply@bibliotheekmonitor.nl")
    renderer = Renderer(support_address="support@bibliotheekmonitor.nl")
    try:
        for name in ("Jan", "Piet"):
            rendered = renderer.render("password_changed", "nl", {}, recipient_name=name)
            message = build_message(
                rendered,
                email_id=uuid.uuid4(),
                recipient_email=f"{name.lower()}@bibliotheek-eindhoven.nl",
                recipient_name=name,
                settings=settings,
            )
            await aiosmtplib.send(message, hostname="127.0.0.1", port=port)
    finally:
        server.close()
        await server.wait_closed()

    files = sorted((tmp_path / "mail").iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no temporary files left
    parsed = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    # sorted by name = sorted by arrival
    assert [m["To"].addresses[0].display_name for m in parsed] == ["Jan", "Piet"]
    first = parsed[0]
    assert first["Subject"] == "Je wachtwoord voor Bibliotheekmonitor is gewijzigd"
    assert first["X-Envelope-To"] == "<jan@bibliotheek-eindhoven.nl>"
    assert first.get_content_type() == "multipart/alternative"
    text = first.get_body(("plain",))
    assert text is not None
    assert "Beste Jan," in text.get_content()  # type: ignore[attr-defined]


async def test_mail_catcher_command_line_serves_until_terminated(tmp_path: Path) -> None:
    mail_dir = tmp_path / "mail"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bibmon_notifier.mailcatcher",
        "--port",
        "0",
        "--dir",
        str(mail_dir),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        banner = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        match = re.search(r"smtp://127\.0\.0\.1:(\d+)", banner)
        assert match, banner
        await aiosmtplib.send(
            "Subject: hallo\r\n\r\nDag!\r\n",
            sender="a@bibliotheekmonitor.nl",
            recipients=["b@bibliotheek-eindhoven.nl"],
            hostname="127.0.0.1",
            port=int(match.group(1)),
        )
        written = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        assert written.startswith("mailcatcher: ")
        (eml,) = mail_dir.glob("*.eml")
        assert message_from_bytes(eml.read_bytes(), policy=policy.default)["Subject"] == "hallo"
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), 10) == 0
