"""Login throttling rules (ASVS 5.0 6.1.1/6.3.1; NIST SP 800-63B-4 §3.2.2).

Per account: after `slow_after` consecutive failures each attempt waits 1, 2, 4 … up to
`max_delay` seconds after the previous failure; at `lock_after` failures the account is
locked for `lock_minutes` (never permanently: a permanent lock would let anyone lock out a
user). The account key is the hash of the *submitted* username, so unknown usernames are
throttled exactly like real ones and the answers cannot tell them apart (ASVS 6.3.8).
State lives in identity's database, shared by all replicas.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottlePolicy:
    """The numbers (docs/reliability.md 5.3); tests shrink them through settings."""

    slow_after: int = 5
    first_delay_seconds: float = 1.0
    max_delay_seconds: float = 60.0
    lock_after: int = 20
    lock_minutes: float = 15.0
    ip_failures: int = 30
    ip_window_seconds: int = 300
    reset_per_account_per_hour: int = 3
    reset_per_ip_per_hour: int = 10
    mfa_failures_per_token: int = 5
    mfa_failures_lock: int = 10


@dataclass(frozen=True)
class AccountState:
    """Consecutive failures of one submitted username."""

    failures: int
    last_failure_at: datetime | None
    locked_until: datetime | None


def throttle_key(kind: str, value: str) -> bytes:
    """Hash of a username or address, so the table holds no plain identifiers."""
    return hashlib.sha256(f"{kind}:{value.strip().casefold()}".encode()).digest()


def delay_after(failures: int, policy: ThrottlePolicy) -> float:
    """Seconds to wait after the last failure before the next attempt is heard."""
    if failures < policy.slow_after:
        return 0.0
    exponent = failures - policy.slow_after
    return min(policy.first_delay_seconds * (2**exponent), policy.max_delay_seconds)


def retry_after(state: AccountState | None, now: datetime, policy: ThrottlePolicy) -> int | None:
    """Whole seconds the caller must wait, or None when an attempt may go ahead."""
    if state is None:
        return None
    if state.locked_until is not None and state.locked_until > now:
        return max(1, math.ceil((state.locked_until - now).total_seconds()))
    delay = delay_after(state.failures, policy)
    if delay and state.last_failure_at is not None:
        allowed_at = state.last_failure_at + timedelta(seconds=delay)
        if allowed_at > now:
            return max(1, math.ceil((allowed_at - now).total_seconds()))
    return None


def record_failure(
    state: AccountState | None, now: datetime, policy: ThrottlePolicy
) -> tuple[AccountState, bool]:
    """The state after one more failure, and whether this failure starts a lock."""
    failures = (state.failures if state else 0) + 1
    locked_until = state.locked_until if state else None
    starts_lock = failures >= policy.lock_after and (failures - policy.lock_after) % 10 == 0
    if starts_lock:
        locked_until = now + timedelta(minutes=policy.lock_minutes)
    return AccountState(failures, now, locked_until), starts_lock
