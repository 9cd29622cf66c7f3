"""Encryption of secrets at rest (TOTP seeds, signing keys) with AES-256-GCM.

The data key lives outside the database (settings / secrets file), so a database dump alone
does not reveal TOTP seeds (ASVS 6.5.3/11.x, docs/reliability.md 5.6). The associated data binds a
ciphertext to its row, so a seed cannot be copied to another user's row.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32


class DataCipher:
    """AES-GCM with a random 96-bit nonce per message; output = nonce || ciphertext+tag."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("the data key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_base64(cls, value: str) -> DataCipher:
        """Build from the base64 text of a 32-byte key."""
        return cls(base64.b64decode(value, validate=True))

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """Encrypt and authenticate `plaintext`, bound to `associated_data`."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, associated_data)

    def decrypt(self, blob: bytes, associated_data: bytes) -> bytes:
        """Decrypt; raises cryptography's InvalidTag when tampered with or the key differs."""
        return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)


def new_data_key() -> str:
    """A fresh base64 data key (for development defaults and operators)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")
