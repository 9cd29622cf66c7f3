"""The surveys service's dependencies: built once at start-up, passed first to every use case.

See docs/kernel.md, "Use cases and their dependencies".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends

from bibmon_common.clock import Clock
from bibmon_common.deps import ServiceDeps, deps_of, event_source
from bibmon_surveys.config import SurveysSettings

__all__ = ["Deps", "SurveysDeps", "build_deps"]


@dataclass(frozen=True, kw_only=True)
class SurveysDeps(ServiceDeps):
    """The pool, the clock, the event source (`bibmon-surveys`) and the settings."""

    settings: SurveysSettings


def build_deps(settings: SurveysSettings) -> Callable[[asyncpg.Pool, Clock], SurveysDeps]:
    """The factory `create_service_app` calls once the pool is open."""

    def build(pool: asyncpg.Pool, clock: Clock) -> SurveysDeps:
        return SurveysDeps(
            pool=pool, clock=clock, source=event_source("surveys"), settings=settings
        )

    return build


Deps = Annotated[SurveysDeps, Depends(deps_of)]
