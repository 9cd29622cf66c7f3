"""Opaque secrets: reset/activation links, refresh tokens, recovery codes.

Each is 256 (links, refresh) or 80 (recovery codes) random bits from `secrets` (ASVS 11.5.1:
>= 128 bits for tokens; NIST 800-63B-4 recovery codes >= 64 bits) and only its SHA-256 is
stored. A fast hash is enough here: unlike passwords these values have full entropy, so a
stolen table cannot be brute-forced (ASVS 6.5.2 allows an approved hash for such secrets).
"""

from __future__ import annotations

import base64
import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_BYTES = 10  # 80 bits = 16 base32 characters


def new_token() -> str:
    """A fresh 256-bit URL-safe token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> bytes:
    """SHA-256 of a token as stored in the database."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Readable single-use recovery codes, e.g. `ABCD-EFGH-JKLM-NPQR`."""
    codes = []
    for _ in range(count):
        raw = base64.b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode("ascii")
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def normalise_recovery_code(code: str) -> str:
    """Upper-case and drop separators, so `abcd efgh-…` matches `ABCD-EFGH-…`."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_recovery_code(code: str) -> bytes:
    """SHA-256 of a normalised recovery code."""
    return hashlib.sha256(normalise_recovery_code(code).encode("ascii", "ignore")).digest()


def looks_like_recovery_code(code: str) -> bool:
    """True for 16 base32 characters (with or without dashes), false for 6-digit TOTP codes."""
    compact = normalise_recovery_code(code)
    return len(compact) == 16 and not compact.isdigit()
