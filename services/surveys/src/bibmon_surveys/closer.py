"""The closer: a background loop that closes surveys at their deadline."""

from __future__ import annotations

import asyncio
from uuid import UUID

import structlog

from bibmon_surveys import usecases
from bibmon_surveys.deps import SurveysDeps

log = structlog.get_logger(__name__)


class SurveyCloser:
    """Closes due surveys every `poll_seconds`; safe to run in several replicas at once."""

    def __init__(self, deps: SurveysDeps, poll_seconds: float) -> None:
        self.deps = deps
        self.poll_seconds = poll_seconds

    async def run_once(self) -> list[UUID]:
        """Close what is due now (by the service's clock); return the surveys closed."""
        return await usecases.close_due_surveys(self.deps)

    async def run(self) -> None:
        """Loop until cancelled; a failure (database outage) is logged and retried."""
        log.info("closer.started", poll_seconds=self.poll_seconds)
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("closer.failed", error_type=type(exc).__name__, error=str(exc))
            await asyncio.sleep(self.poll_seconds)
