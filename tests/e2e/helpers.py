"""Small helpers shared by the journey tests (imported as `tests.e2e.helpers`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

TOKEN_RE = re.compile(r"#token=([A-Za-z0-9_\-]+)")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def to(address: str) -> Callable[[EmailMessage], bool]:
    return lambda m: address.lower() in str(m["To"]).lower()


def items_of(body: Any) -> list[Any]:
    return list(body["items"] if isinstance(body, dict) else body)


def link_token(message: EmailMessage) -> str:
    match = TOKEN_RE.search(text_of(message))
    assert match, "the e-mail holds no link with a token in its fragment"
    return match.group(1)
