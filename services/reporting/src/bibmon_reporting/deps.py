"""The reporting service's dependencies: settings and its adapters, built once at start-up.

`ReportingDeps` is passed first to every use case and message handler
(docs/kernel.md, "Use cases and their dependencies"): the open-data publication settings
and the document renderer are its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends

from bibmon_common.clock import Clock
from bibmon_common.deps import ServiceDeps, deps_of, event_source
from bibmon_reporting.config import OpenDataConfig, ReportingSettings
from bibmon_reporting.documents.renderer import DocumentRenderer

SERVICE = "reporting"


@dataclass(frozen=True, kw_only=True)
class ReportingDeps(ServiceDeps):
    """What reporting's use cases need besides the pool and the clock."""

    settings: ReportingSettings
    # Base URL, licence and publisher of the open datasets (from the settings).
    open_data: OpenDataConfig
    # Draws infographics and reports in worker threads (the cache is `rendered_document`).
    documents: DocumentRenderer


def build_deps(settings: ReportingSettings) -> Callable[[asyncpg.Pool, Clock], ReportingDeps]:
    """The factory `create_service_app` calls once the pool is open."""

    def build(pool: asyncpg.Pool, clock: Clock) -> ReportingDeps:
        return ReportingDeps(
            pool=pool,
            clock=clock,
            source=event_source(SERVICE),
            settings=settings,
            open_data=OpenDataConfig.from_settings(settings),
            documents=DocumentRenderer(),
        )

    return build


Deps = Annotated[ReportingDeps, Depends(deps_of)]
