"""An organisation's infographic (SVG, PNG) and report (PDF, HTML) as files.

The caller's access is decided exactly as for the benchmark (`reports.report_for`). A
rendering is cached in `rendered_document` and served again while the report it was
drawn from is unchanged: the same `computed_at` and the same SHA-256 over the report.
Drawing is the document renderer's (`deps.documents`: worker threads, a few at a time,
one request per document).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from uuid import UUID

import structlog

from bibmon_common.auth import Principal
from bibmon_reporting.deps import ReportingDeps
from bibmon_reporting.documents import repository as repo
from bibmon_reporting.documents.renderer import MEDIA_TYPES, Kind, Locale
from bibmon_reporting.report_model import OrganisationReport
from bibmon_reporting.usecases import reports

log = structlog.get_logger(__name__)


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


async def _cached_or_rendered(
    deps: ReportingDeps, report: OrganisationReport, kind: Kind, locale: Locale
) -> tuple[bytes, bool]:
    """The rendering of the report, from the cache if it is current; (bytes, cached)."""
    survey_id, organisation_id = report.survey.id, report.organisation.id
    fingerprint = report_fingerprint(report)
    async with deps.documents.lock((survey_id, organisation_id, kind, locale)):
        async with deps.connection() as conn:
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
            svg, _ = await _cached_or_rendered(deps, report, "svg", locale)
        body = await deps.documents.render(kind, report, locale, svg)
        async with deps.connection() as conn:
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
    deps: ReportingDeps,
    principal: Principal,
    survey_id: UUID,
    organisation_id: UUID | None,
    kind: Kind,
    locale: Locale,
) -> Document:
    """The document the caller asks for (the benchmark's access rule), or 404."""
    report = await reports.report_for(deps, principal, survey_id, organisation_id)
    body, cached = await _cached_or_rendered(deps, report, kind, locale)
    return Document(
        body=body,
        media_type=MEDIA_TYPES[kind],
        filename=filename(report, kind, locale),
        cached=cached,
    )
