"""The responses service's dependencies: built once at start-up, passed first to every use
case and message handler.

See docs/kernel.md, "Use cases and their dependencies".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import Depends

from bibmon_common.clock import Clock
from bibmon_common.deps import ServiceDeps, deps_of, event_source
from bibmon_common.questionnaire import Questionnaire
from bibmon_responses.config import ResponsesSettings

__all__ = ["Deps", "ResponsesDeps", "build_deps"]


@dataclass(frozen=True, kw_only=True)
class ResponsesDeps(ServiceDeps):
    """The pool, the clock, the event source (`bibmon-responses`), the settings, and the
    questionnaire versions parsed so far.

    A published questionnaire version never changes, so each process parses it once and
    keeps it (`questionnaires`); several workers each keep their own, and none can be
    stale. (Revoked sessions have their per-process copy in the kernel:
    `create_service_app(..., revocation_refresh=...)`.)
    """

    settings: ResponsesSettings
    questionnaires: dict[tuple[UUID, int], Questionnaire] = field(default_factory=dict)


def build_deps(settings: ResponsesSettings) -> Callable[[asyncpg.Pool, Clock], ResponsesDeps]:
    """The factory `create_service_app` calls once the pool is open."""

    def build(pool: asyncpg.Pool, clock: Clock) -> ResponsesDeps:
        return ResponsesDeps(
            pool=pool, clock=clock, source=event_source("responses"), settings=settings
        )

    return build


Deps = Annotated[ResponsesDeps, Depends(deps_of)]
