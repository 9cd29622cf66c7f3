"""Polling for tests whose conditions live in a database, a broker or a mailbox."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    probe: Callable[[], Awaitable[Any]], within: float = 5.0, interval: float = 0.05
) -> Any:
    """Poll `probe` until it returns something truthy and return that value; raise
    TimeoutError after `within` seconds."""
    # Polling on purpose: the conditions live outside this process.
    async with asyncio.timeout(within):
        while not (value := await probe()):  # noqa: ASYNC110
            await asyncio.sleep(interval)
    return value
