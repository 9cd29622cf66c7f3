"""The document renderer: draws a report's infographic and report files, off the event loop.

The renderers block (about a second of CPU for a PDF), so they run in a worker thread, at
most `RENDER_CONCURRENCY` at a time per process, and one request renders a document while
others asking for the same one wait for it (`DocumentRenderer.lock`). Built once at
start-up as an adapter of `ReportingDeps`.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Literal
from uuid import UUID

from bibmon_reporting.rendering import (
    render_infographic_png,
    render_infographic_svg,
    render_report_html,
    render_report_pdf,
)
from bibmon_reporting.report_model import OrganisationReport

Kind = Literal["svg", "png", "pdf", "html"]
Locale = Literal["nl", "en"]

MEDIA_TYPES: dict[Kind, str] = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}

# Renders per kind since the process started; tests read it to see a cache hit.
RENDERS: Counter[str] = Counter()

# Renders at a time per process: the renderers are CPU-bound, and WeasyPrint and Pango are
# not documented as safe to run in parallel threads.
RENDER_CONCURRENCY = 1

_limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)

DocumentKey = tuple[UUID, UUID, str, str]  # survey, organisation, kind, locale


def _limit(concurrency: int) -> asyncio.Semaphore:
    # One semaphore per event loop (tests start several apps, one loop each, in a process).
    loop = asyncio.get_running_loop()
    if loop not in _limits:
        _limits[loop] = asyncio.Semaphore(concurrency)
    return _limits[loop]


def _renderer(
    kind: Kind, report: OrganisationReport, locale: Locale, svg: bytes | None
) -> Callable[[], bytes]:
    infographic = svg.decode("utf-8") if svg is not None else None
    if kind == "svg":
        return lambda: render_infographic_svg(report, locale)
    if kind == "png":
        return lambda: render_infographic_png(report, locale)
    if kind == "pdf":
        return lambda: render_report_pdf(report, locale, infographic)
    return lambda: render_report_html(report, locale, infographic).encode("utf-8")


class DocumentRenderer:
    """Renders documents in a worker thread, a few at a time; one lock per document."""

    def __init__(self, concurrency: int = RENDER_CONCURRENCY) -> None:
        self.concurrency = concurrency
        self._locks: weakref.WeakValueDictionary[DocumentKey, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def lock(self, key: DocumentKey) -> asyncio.Lock:
        """The lock of one document: who holds it renders it, the others wait (held weakly)."""
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def render(
        self, kind: Kind, report: OrganisationReport, locale: Locale, svg: bytes | None
    ) -> bytes:
        """The document's bytes; `svg` is the report's infographic for a PDF or HTML report."""
        async with _limit(self.concurrency):
            body = await asyncio.to_thread(_renderer(kind, report, locale, svg))
        RENDERS[kind] += 1
        return body
