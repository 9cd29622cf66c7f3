"""Use cases of open data: publish a closed survey's dataset, read what was published.

Publication runs in the open-data worker (`opendata/worker.py`), never in a consumer: a survey is
due when it has closed and its data changed since its dataset was last checked (the
close itself is such a change, and so is every correction after it). One transaction
per survey writes the new version, its `reporting.dataset.published.v1` outbox row and
the check mark, under an advisory lock: a process killed halfway leaves nothing behind,
and the next run publishes exactly that version once. A dataset whose content did not
change (same fingerprint) is not published again.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog

from bibmon_common.contracts.reporting import DatasetFile, DatasetPublished
from bibmon_common.messaging.outbox import enqueue
from bibmon_common.questionnaire import Questionnaire
from bibmon_reporting.deps import ReportingDeps
from bibmon_reporting.models import DatasetFileContent, DatasetFileLink, DatasetSummary
from bibmon_reporting.opendata import dcat
from bibmon_reporting.opendata import repository as repo
from bibmon_reporting.opendata.dataset import (
    SCHEMA_VERSION,
    CountedAnswers,
    Dataset,
    DatasetFiles,
    OrganisationInfo,
    SurveyInfo,
    build_dataset,
    render_files,
    sha256_hex,
)
from bibmon_reporting.opendata.licence import licence
from bibmon_reporting.repository import Conn

log = structlog.get_logger(__name__)

# A survey's year is the calendar year in the Netherlands in which it opened.
_NL = ZoneInfo("Europe/Amsterdam")


def survey_info(row: Any) -> SurveyInfo:
    """The dataset's view of a survey row (id, title, series_key, opens_at)."""
    return SurveyInfo(
        survey_id=row["id"],
        title=row["title"],
        series_key=row["series_key"],
        year=row["opens_at"].astimezone(_NL).year,
    )


async def publish_survey(deps: ReportingDeps, survey_id: UUID) -> int | None:
    """Publish the survey's dataset if it changed; return the new version, else None."""
    config = deps.open_data
    async with deps.transaction() as conn:
        if not await repo.try_lock(conn, survey_id):
            return None
        survey = await repo.survey_for_dataset(conn, survey_id)
        if survey is None or survey["closed_at"] is None or survey["changed_at"] is None:
            return None
        dataset = await _dataset(conn, survey_id, survey)
        if dataset is None:
            return None
        now = deps.now()
        latest = await repo.latest_version(conn, survey_id)
        version = (latest["version"] if latest else 0) + 1
        files = render_files(dataset, version=version, published_at=now, licence=config.licence)
        await repo.mark_checked(conn, survey_id, survey["changed_at"], now)
        if latest is not None and latest["fingerprint"] == files.fingerprint:
            return None
        contents = dict(files.items())
        sha256 = {kind: sha256_hex(content) for kind, content in contents.items()}
        await repo.insert_version(
            conn,
            survey_id=survey_id,
            version=version,
            schema_version=SCHEMA_VERSION,
            licence=config.licence.id,
            row_count=files.row_count,
            fingerprint=files.fingerprint,
            files=contents,
            sha256=sha256,
            published_at=now,
        )
        await _announce(deps, conn, dataset, files, contents, sha256, version, now)
    log.info(
        "opendata.published",
        survey_id=str(survey_id),
        dataset_version=version,
        row_count=files.row_count,
        withheld=dataset.withheld,
    )
    return version


async def _dataset(conn: Conn, survey_id: UUID, survey: Any) -> Dataset | None:
    """The dataset of the survey's counted responses; None while its facts are incomplete."""
    raw_versions = await repo.questionnaires(conn, survey_id)
    if survey["title"] is None or survey["opens_at"] is None or not raw_versions:
        # Events overtook each other: the survey's facts are not all here yet. The
        # publication event that brings them marks the survey changed again.
        return None
    questionnaires = {v: Questionnaire.model_validate(q) for v, q in raw_versions.items()}
    rows = await repo.counted_with_organisations(conn, survey_id)
    organisations = {
        r["organisation_id"]: OrganisationInfo(
            r["organisation_id"],
            r["name"],
            r["province"],
            tuple(r["municipalities"] or ()),
            r["size_class"],
        )
        for r in rows
        if r["name"] is not None
    }
    submissions = [
        CountedAnswers(r["organisation_id"], r["questionnaire_version"], r["answers"]) for r in rows
    ]
    return build_dataset(survey_info(survey), questionnaires, organisations, submissions)


async def _announce(
    deps: ReportingDeps,
    conn: Conn,
    dataset: Dataset,
    files: DatasetFiles,
    contents: dict[str, bytes],
    sha256: dict[str, str],
    version: int,
    published_at: datetime,
) -> None:
    """`reporting.dataset.published.v1` for the new version, in its transaction."""
    config, info = deps.open_data, dataset.survey
    await enqueue(
        conn,
        DatasetPublished(
            survey_id=info.survey_id,
            series_key=info.series_key,
            year=info.year,
            title=info.title,
            dataset_version=version,
            schema_version=SCHEMA_VERSION,
            row_count=files.row_count,
            licence=config.licence.id,
            published_at=published_at,
            files=tuple(
                DatasetFile(
                    kind=kind,
                    url=dcat.file_url(config.base_url, info.survey_id, kind, version),
                    media_type=dcat.FILE_KINDS[kind][0],
                    byte_size=len(content),
                    sha256=sha256[kind],
                )
                for kind, content in contents.items()
            ),
            catalog_url=f"{dcat.open_data_base(config.base_url)}/catalog.jsonld",
        ),
        source=deps.source,
    )


async def publish_due(deps: ReportingDeps) -> int:
    """Publish every due survey's dataset; return how many new versions were published."""
    config = deps.open_data
    async with deps.connection() as conn:
        due = await repo.due_surveys(conn, config.settle_seconds, config.replay_quiet_seconds)
    published = 0
    for survey_id in due:
        if await publish_survey(deps, survey_id) is not None:
            published += 1
    return published


async def _published_catalog(conn: Any) -> list[dcat.PublishedDataset]:
    """Every closed survey's latest dataset version, as the catalogue and the list show it."""
    return [
        dcat.PublishedDataset(
            survey=survey_info(r),
            version=r["version"],
            issued=r["issued"],
            modified=r["modified"],
            row_count=r["row_count"],
            files=(
                dcat.PublishedFile("csv", r["csv_size"], r["csv_sha256"]),
                dcat.PublishedFile("json", r["json_size"], r["json_sha256"]),
                dcat.PublishedFile("dictionary", r["dictionary_size"], r["dictionary_sha256"]),
            ),
            licence=licence(r["licence"]),
        )
        for r in await repo.published_datasets(conn)
    ]


async def list_datasets(deps: ReportingDeps) -> list[DatasetSummary]:
    """Every closed survey with a published dataset, its latest version and files."""
    base = deps.open_data.base_url
    async with deps.connection() as conn:
        published = await _published_catalog(conn)
    return [
        DatasetSummary(
            survey_id=d.survey.survey_id,
            title=d.survey.title,
            series_key=d.survey.series_key,
            year=d.survey.year,
            dataset_version=d.version,
            row_count=d.row_count,
            licence=d.licence.id,
            first_published_at=d.issued,
            published_at=d.modified,
            files=[
                DatasetFileLink(
                    kind=f.kind,
                    url=dcat.file_url(base, d.survey.survey_id, f.kind, d.version),
                    byte_size=f.byte_size,
                    sha256=f.sha256,
                )
                for f in d.files
            ],
        )
        for d in published
    ]


async def catalog_jsonld(deps: ReportingDeps) -> bytes:
    """DCAT-AP metadata of every published dataset, as the JSON-LD document harvesters read."""
    config = deps.open_data
    async with deps.connection() as conn:
        published = await _published_catalog(conn)
    document = dcat.catalog(published, base_url=config.base_url, publisher=config.publisher)
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


async def published_file(
    deps: ReportingDeps, survey_id: UUID, kind: str, version: int | None
) -> DatasetFileContent | None:
    """A published file of a closed survey (the latest unless `version`); None if none."""
    async with deps.connection() as conn:
        found = await repo.get_file(conn, survey_id, kind, version)
    if found is None:
        return None
    content, sha256, published_version = found
    return DatasetFileContent(content=content, sha256=sha256, version=published_version)
