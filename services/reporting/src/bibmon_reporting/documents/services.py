"""An organisation's infographic (SVG, PNG) and report (PDF, HTML) as files.

The caller's access is decided exactly as for the benchmark (`reports.report_for`). A
rendering is cached in `rendered_document` and served again while the report it was
drawn from is unchanged: the same `computed_at` and the same SHA-256 over the report. The
renderers block (about a second of CPU for a PDF), so they run in a worker thread, at
most `render_concurrency` at a time, and one request renders a document while others
asking for the same one wait for it.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import unicodedata
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import asyncpg
import structlog

from bibmon_common.auth import Principal
from bibmon_reporting import reports
from bibmon_reporting.documents import repository as repo
from bibmon_reporting.rendering import (
    render_infographic_png,
    render_infographic_svg,
    render_report_html,
    render_report_pdf,
)
from bibmon_reporting.report_model import OrganisationReport

log = structlog.get_logger(__name__)

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

_locks: weakref.WeakValueDictionary[tuple[UUID, UUID, str, str], asyncio.Lock] = (
    weakref.WeakValueDictionary()
)
_limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
# Renders at a time per process: the renderers are CPU-bound, and WeasyPrint and Pango are
# not documented as safe to run in parallel threads.
RENDER_CONCURRENCY = 1


@dataclass(frozen=True)
class Document:
    """A rendered file and how to name it."""

    body: bytes
    media_type: str
    filename: str
    cached: bool


def report_fingerprint(report: OrganisationReport) -> str:
    """SHA-256 over the report as JSON: equal reports give equal renderings."""
    return hashlib.sha256(report.model_dump_json().encode("utf-8")).hexdigest()


def _slug(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-")


def filename(report: OrganisationReport, kind: Kind, locale: Locale) -> str:
    """An ASCII file name such as `rapport-monitor-2026-bibliotheek-utrecht.pdf`."""
    stem = "infographic" if kind in ("svg", "png") else ("rapport" if locale == "nl" else "report")
    survey = _slug(report.survey.title) or str(report.survey.id)
    organisation = _slug(report.organisation.name) or str(report.organisation.id)
    return f"{stem}-{survey}-{organisation}.{kind}"


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


async def _cached_or_rendered(
    pool: asyncpg.Pool,
    report: OrganisationReport,
    kind: Kind,
    locale: Locale,
    *,
    concurrency: int,
) -> tuple[bytes, bool]:
    """The rendering of the report, from the cache if it is current; (bytes, cached)."""
    survey_id, organisation_id = report.survey.id, report.organisation.id
    fingerprint = report_fingerprint(report)
    key = (survey_id, organisation_id, kind, locale)
    lock = _locks.get(key)
    if lock is None:
        lock = _locks[key] = asyncio.Lock()
    async with lock:
        async with pool.acquire() as conn:
            row = await repo.get_document(conn, survey_id, organisation_id, kind, locale)
        if (
            row is not None
            and row["computed_at"] == report.computed_at
            and row["report_sha256"] == fingerprint
        ):
            return bytes(row["body"]), True
        svg = None
        if kind in ("pdf", "html"):
            # The report shows the infographic: draw it once, for both.
            svg, _ = await _cached_or_rendered(pool, report, "svg", locale, concurrency=concurrency)
        async with _limit(concurrency):
            body = await asyncio.to_thread(_renderer(kind, report, locale, svg))
        RENDERS[kind] += 1
        async with pool.acquire() as conn:
            await repo.store_document(
                conn,
                survey_id=survey_id,
                organisation_id=organisation_id,
                kind=kind,
                locale=locale,
                computed_at=report.computed_at,
                report_sha256=fingerprint,
                body=body,
            )
        log.info(
            "document.rendered",
            survey_id=str(survey_id),
            organisation_id=str(organisation_id),
            kind=kind,
            locale=locale,
            size=len(body),
        )
        return body, False


async def document_for(
    pool: asyncpg.Pool,
    principal: Principal,
    survey_id: UUID,
    organisation_id: UUID | None,
    kind: Kind,
    locale: Locale,
    *,
    min_group_size: int,
    concurrency: int = RENDER_CONCURRENCY,
) -> Document:
    """The document the caller asks for (the benchmark's access rule), or 404."""
    async with pool.acquire() as conn:
        report = await reports.report_for(
            conn, principal, survey_id, organisation_id, min_group_size=min_group_size
        )
    body, cached = await _cached_or_rendered(pool, report, kind, locale, concurrency=concurrency)
    return Document(
        body=body,
        media_type=MEDIA_TYPES[kind],
        filename=filename(report, kind, locale),
        cached=cached,
    )
