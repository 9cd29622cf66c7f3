"""Free text that PostgreSQL can store.

PostgreSQL refuses the NUL character (U+0000) in `text` and `jsonb`, and a lone surrogate
(U+D800–U+DFFF, which JSON's `\\ud800` escapes can produce) cannot be encoded as UTF-8.
Every free-text field of a request uses `PlainText`, so such input is a 422 naming the
field instead of an error deep in the database driver.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# NUL and every surrogate code point: neither can be stored as PostgreSQL text.
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")

MESSAGE = "The text holds characters that are not allowed (NUL or an unpaired surrogate)."
MESSAGE_NL = "De tekst bevat tekens die niet zijn toegestaan."


def has_forbidden_characters(value: str) -> bool:
    """Whether `value` holds a NUL or a surrogate code point."""
    return _FORBIDDEN.search(value) is not None


def check_plain_text(value: str) -> str:
    """`value` unchanged, or a validation error (type `forbidden_characters`) when it
    cannot be stored as text. The error never repeats the value."""
    if has_forbidden_characters(value):
        raise PydanticCustomError("forbidden_characters", MESSAGE)
    return value


PlainText = Annotated[str, AfterValidator(check_plain_text)]
"""A `str` without NUL and without surrogate code points (pydantic type)."""

__all__ = ["MESSAGE", "MESSAGE_NL", "PlainText", "check_plain_text", "has_forbidden_characters"]
