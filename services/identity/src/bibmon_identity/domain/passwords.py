"""Password rules and hashing.

Rules: NIST SP 800-63B-4 §3.1.1.2 and OWASP ASVS 5.0 V6.2 — a minimum length (15 when the
password is the only factor, 12 with TOTP), at least 64 characters accepted, no composition
rules, a check against common passwords and context words, Unicode NFKC normalisation.
Storage: argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile; ASVS 11.4.2).
"""

from __future__ import annotations

import asyncio
import string
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH_SINGLE_FACTOR = 15  # NIST 800-63B-4: >= 15 when the password is the only factor
MIN_LENGTH_WITH_TOTP = 12  # project choice (docs/reliability.md 5.1), NIST allows 8 with MFA
MAX_BYTES = 256  # ASVS 6.2.9 wants >= 64 chars; the byte cap bounds hashing work (DoS)
# Text that every password of this platform is likely to be built around (ASVS 6.2.11).
PLATFORM_WORDS = (
    "bibliotheekmonitor",
    "bibliotheken",
    "bibliotheek",
    "koninklijkebibliotheek",
    "bibmon",
    "library",
    "bieb",
    "kb",
)
_MIN_REMAINDER = 8  # characters left after removing context words and padding
_PADDING = string.digits + string.punctuation + string.whitespace


def normalise(password: str) -> str:
    """NFKC-normalise a password so equivalent Unicode input hashes the same (NIST 3.1.1.2)."""
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (see data/common-passwords.txt for its source)."""
    text = (
        resources.files("bibmon_identity")
        .joinpath("data/common-passwords.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line and not line.startswith("#")
    )


def _is_sequence_or_repetition(lower: str) -> bool:
    compact = "".join(ch for ch in lower if not ch.isspace())
    if len(set(compact)) <= 3:  # "aaaa…", "abab…", "112112…"
        return True
    for period in range(1, 5):  # a short block repeated: "abcdabcdabcd…"
        block = compact[:period]
        if block and block * (len(compact) // period) + block[: len(compact) % period] == compact:
            return True
    runs = (
        "0123456789" * 4,
        "9876543210" * 4,
        "abcdefghijklmnopqrstuvwxyz" * 2,
        "qwertyuiopasdfghjklzxcvbnm" * 2,
        "azertyuiopqsdfghjklmwxcvbn" * 2,
        "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p" * 2,
    )
    return any(compact in run for run in runs)


def _strip_words(text: str, words: list[str]) -> str:
    for word in sorted(words, key=len, reverse=True):
        if word:
            text = text.replace(word, "")
    return text


def context_words(*values: str | None) -> list[str]:
    """Lower-cased words from user and organisation data to refuse inside a password."""
    words: set[str] = set(PLATFORM_WORDS)
    for value in values:
        if not value:
            continue
        lower = normalise(value).lower()
        local = lower.split("@", 1)[0]
        words.add(local.replace(" ", ""))
        for part in "".join(ch if ch.isalnum() else " " for ch in local).split():
            if len(part) >= 4:
                words.add(part)
    return sorted(words)


@dataclass(frozen=True)
class PasswordProblem:
    """Why a password was refused; `message` is safe to show the user."""

    code: str
    message: str


def check_password(
    password: str, *, min_length: int, context: list[str] | None = None
) -> PasswordProblem | None:
    """Return the first problem with a new password, or None when it is acceptable."""
    normalised = normalise(password)
    if len(normalised.encode("utf-8")) > MAX_BYTES:
        return PasswordProblem("too_long", f"Use at most {MAX_BYTES} bytes.")
    if len(normalised) < min_length:
        return PasswordProblem("too_short", f"Use at least {min_length} characters.")
    lower = normalised.lower()
    compact = "".join(lower.split())
    core = compact.strip(_PADDING)
    common = common_passwords()
    if lower in common or compact in common or core in common:
        return PasswordProblem("common", "This password is too common; choose another one.")
    if _is_sequence_or_repetition(lower) or _is_sequence_or_repetition(core):
        return PasswordProblem(
            "predictable", "This password is a repetition or sequence; choose another one."
        )
    words = context or list(PLATFORM_WORDS)
    remainder = _strip_words(compact, words).strip(_PADDING)
    if len(remainder) < _MIN_REMAINDER or remainder in common:
        return PasswordProblem(
            "context",
            "This password is too close to your name, username, organisation or this "
            "platform; choose another one.",
        )
    return None


class PasswordHashing:
    """argon2id hashing in worker threads, at most `concurrency` at a time (memory bound)."""

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost: int = 65536,
        parallelism: int = 4,
        concurrency: int = 4,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )
        self._semaphore = asyncio.Semaphore(concurrency)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        """Hash a (policy-checked) password."""
        async with self._semaphore:
            return await asyncio.to_thread(self._hasher.hash, normalise(password))

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Verify a password; a missing hash still costs one verification (ASVS 6.3.8)."""
        candidate = normalise(password)
        if len(candidate.encode("utf-8")) > MAX_BYTES:
            candidate = candidate.encode("utf-8")[:MAX_BYTES].decode("utf-8", "ignore")
        if stored_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash("bibmon-identity dummy password")
            stored_hash = self._dummy_hash
            candidate = candidate + "\x00never-matches"
        async with self._semaphore:
            try:
                return await asyncio.to_thread(self._hasher.verify, stored_hash, candidate)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the stored hash used other parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True
