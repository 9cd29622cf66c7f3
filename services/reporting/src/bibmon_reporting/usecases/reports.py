"""One organisation's report (`report_model.OrganisationReport`) from the stored figures,
and who may see it.

Library staff see their own organisation's report once the survey has closed and their
response counts; kb_admin and researcher see any organisation's live figures at any time.
Anything else is 404, so whether a report exists does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from bibmon_common.auth import Principal
from bibmon_common.errors import InvalidInput, NotFound
from bibmon_common.organisations import SizeClass
from bibmon_common.questionnaire import CHOICE_TYPES, Question, Questionnaire
from bibmon_reporting import repository as repo
from bibmon_reporting.deps import ReportingDeps
from bibmon_reporting.models import ReportListItem
from bibmon_reporting.report_model import (
    GROUP_KINDS,
    ChoiceGroup,
    ChoiceShare,
    GroupKind,
    NumericFigures,
    NumericGroup,
    OrganisationInfo,
    OrganisationReport,
    QuestionBenchmark,
    SectionBenchmark,
    SurveyInfo,
)
from bibmon_reporting.repository import Conn, Row
from bibmon_reporting.usecases.read_models import kept

NATIONAL_LABEL = "Nederland"
YES_NO_OPTIONS = (("true", "Ja"), ("false", "Nee"))
MANAGERS = ("kb_admin", "researcher")


def size_class_label(key: str) -> str:
    """The Dutch label of a size class key."""
    try:
        return SizeClass(key).label
    except ValueError:
        return key


def _not_found() -> NotFound:
    return NotFound("There is no report of this survey for this organisation.")


def _benchmarked(question: Question) -> bool:
    return kept(question) and (
        question.numeric or question.type == "yes_no" or question.type in CHOICE_TYPES
    )


class _Groups:
    """The organisation's three comparison groups: kind → (group key, label)."""

    def __init__(self, organisation: Row) -> None:
        self.keys: dict[GroupKind, tuple[str, str]] = {
            "national": ("", NATIONAL_LABEL),
            "province": (organisation["province"], organisation["province"]),
            "size_class": (
                organisation["size_class"],
                size_class_label(organisation["size_class"]),
            ),
        }


def _numeric(
    own: float | None,
    measure: str,
    key: str,
    figures: dict[tuple[str, str, str], Row],
    ranks: dict[str, list[float | None]],
    groups: _Groups,
    min_group_size: int,
) -> NumericFigures:
    out = []
    rank = ranks.get(f"{key}|{measure}")
    for kind in GROUP_KINDS:
        label = groups.keys[kind][1]
        row = figures.get((key, measure, kind))
        n = row["n"] if row else 0
        if row is None or n < min_group_size:
            out.append(NumericGroup(kind=kind, label=label, n=n, too_few=True))
            continue
        out.append(
            NumericGroup(
                kind=kind,
                label=label,
                n=n,
                too_few=False,
                mean=row["mean"],
                median=row["median"],
                q1=row["q1"],
                q3=row["q3"],
                min=row["min"],
                max=row["max"],
                percentile_rank=(
                    rank[GROUP_KINDS.index(kind)] if rank is not None and own is not None else None
                ),
            )
        )
    return NumericFigures(own=own, groups=tuple(out))


def _choice(
    question: Question,
    rows: dict[tuple[str, str], list[Row]],
    groups: _Groups,
    min_group_size: int,
) -> tuple[ChoiceGroup, ...]:
    options = (
        YES_NO_OPTIONS
        if question.type == "yes_no"
        else tuple((o.value, str(o.label)) for o in question.options)
    )
    out = []
    for kind in GROUP_KINDS:
        label = groups.keys[kind][1]
        group_rows = rows.get((question.key, kind), [])
        n = group_rows[0]["n"] if group_rows else 0
        if n < min_group_size or n == 0:
            out.append(ChoiceGroup(kind=kind, label=label, n=n, too_few=True))
            continue
        counts = {r["option"]: r["count"] for r in group_rows}
        shares = tuple(
            ChoiceShare(value=value, label=text, percent=counts.get(value, 0) * 100.0 / n)
            for value, text in options
        )
        out.append(ChoiceGroup(kind=kind, label=label, n=n, too_few=False, shares=shares))
    return tuple(out)


@dataclass(frozen=True)
class _Figures:
    """Everything stored about the survey's figures that one organisation's report shows."""

    groups: _Groups
    numeric: dict[tuple[str, str, str], Row]
    ranks: dict[str, list[float | None]]
    choice_rows: dict[tuple[str, str], list[Row]]
    own_numeric: dict[str, float]
    own_choice: dict[str, set[str]]
    inhabitants: int | None
    min_group_size: int

    @classmethod
    async def load(
        cls,
        conn: Conn,
        survey_id: UUID,
        organisation_id: UUID,
        organisation: Row,
        numeric_keys: list[str],
        min_group_size: int,
    ) -> _Figures:
        groups = _Groups(organisation)
        province, size_class = groups.keys["province"][0], groups.keys["size_class"][0]
        numeric = {
            (r["question_key"], r["measure"], r["group_kind"]): r
            for r in await repo.report_numeric(conn, survey_id, province, size_class)
        }
        ranks = await repo.report_ranks(conn, survey_id, organisation_id, numeric_keys)
        choice_rows: dict[tuple[str, str], list[Row]] = {}
        for r in await repo.report_choice(conn, survey_id, province, size_class):
            choice_rows.setdefault((r["question_key"], r["group_kind"]), []).append(r)
        return cls(
            groups=groups,
            numeric=numeric,
            ranks=ranks,
            choice_rows=choice_rows,
            own_numeric=await repo.own_numeric(conn, survey_id, organisation_id),
            own_choice=await repo.own_choice(conn, survey_id, organisation_id),
            inhabitants=organisation["inhabitants"],
            min_group_size=min_group_size,
        )

    def question(self, q: Question, key_figures: set[str]) -> QuestionBenchmark:
        """One question's figures: numeric (and per inhabitant), or the shares of options."""
        fields: dict[str, Any] = {}
        if q.numeric:
            own = self.own_numeric.get(q.key)
            fields["numeric"] = self._numeric(own, "value", q.key)
            if q.per_inhabitant:
                inhabitants = self.inhabitants
                own_per = own * 1000.0 / inhabitants if own is not None and inhabitants else None
                fields["per_inhabitant"] = self._numeric(own_per, "per_1000", q.key)
        else:
            chosen = self.own_choice.get(q.key)
            order = (
                [v for v, _ in YES_NO_OPTIONS]
                if q.type == "yes_no"
                else [o.value for o in q.options]
            )
            fields["own_choice"] = (
                tuple(v for v in order if v in chosen) if chosen is not None else None
            )
            fields["choice"] = _choice(q, self.choice_rows, self.groups, self.min_group_size)
        return QuestionBenchmark(
            key=q.key,
            label=str(q.label),
            type=q.type,
            unit=str(q.unit),
            key_figure=q.key in key_figures,
            **fields,
        )

    def _numeric(self, own: float | None, measure: str, key: str) -> NumericFigures:
        return _numeric(
            own, measure, key, self.numeric, self.ranks, self.groups, self.min_group_size
        )


async def build_report(
    conn: Conn, survey_id: UUID, organisation_id: UUID, *, min_group_size: int
) -> OrganisationReport:
    """The organisation's report from the last computed figures, or 404."""
    survey = await repo.get_survey(conn, survey_id)
    organisation = await repo.get_organisation(conn, organisation_id)
    state = await repo.get_state(conn, survey_id)
    if (
        survey is None
        or survey["questionnaire"] is None
        or survey["title"] is None
        or organisation is None
        or state is None
        or state["computed_at"] is None
    ):
        raise _not_found()
    questionnaire = Questionnaire.model_validate(survey["questionnaire"])
    figures = await _Figures.load(
        conn, survey_id, organisation_id, organisation, state["numeric_keys"], min_group_size
    )
    key_figures = {q.key for q in questionnaire.effective_key_figures()}
    sections = []
    for section in questionnaire.sections:
        questions = tuple(
            figures.question(q, key_figures) for q in section.questions if _benchmarked(q)
        )
        if questions:
            sections.append(
                SectionBenchmark(key=section.key, title=str(section.title), questions=questions)
            )
    return OrganisationReport(
        survey=SurveyInfo(
            id=survey_id,
            title=survey["title"],
            series_key=survey["series_key"],
            closed_at=survey["closed_at"],
            questionnaire_version=survey["questionnaire_version"],
        ),
        organisation=OrganisationInfo(
            id=organisation_id,
            name=organisation["name"],
            province=organisation["province"],
            size_class=organisation["size_class"],
            size_class_label=size_class_label(organisation["size_class"]),
            inhabitants=organisation["inhabitants"],
        ),
        computed_at=state["computed_at"],
        min_group_size=min_group_size,
        counted=state["counted"],
        sections=tuple(sections),
    )


def is_manager(principal: Principal) -> bool:
    """kb_admin and researcher see every organisation's live figures."""
    return principal.has_role(*MANAGERS)


async def visible_organisation(
    conn: Conn, principal: Principal, survey_id: UUID, organisation_id: UUID | None
) -> UUID:
    """The organisation whose report the caller asks for, if the caller may see it; else 404.

    Library staff: their own organisation, once the survey has closed and its response
    counts. kb_admin and researcher: any organisation (`organisation_id`), any time.
    """
    if is_manager(principal):
        target = organisation_id or principal.organisation_id
        if target is None:
            raise InvalidInput(
                "Name the organisation.",
                errors=[
                    {
                        "field": "organisation_id",
                        "message": "organisation_id is required for this role.",
                        "type": "missing",
                    }
                ],
            )
        return target
    own = principal.organisation_id
    if (
        not principal.has_role("library_staff")
        or own is None
        or (organisation_id is not None and organisation_id != own)
    ):
        raise _not_found()
    survey = await repo.get_survey(conn, survey_id)
    if (
        survey is None
        or survey["closed_at"] is None
        or await repo.get_counted(conn, survey_id, own) is None
    ):
        raise _not_found()
    return own


async def report_for(
    deps: ReportingDeps, principal: Principal, survey_id: UUID, organisation_id: UUID | None
) -> OrganisationReport:
    """The report the caller asks for, or 404 (one consistent snapshot of the figures)."""
    min_group_size = deps.settings.min_group_size
    async with (
        deps.connection() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        target = await visible_organisation(conn, principal, survey_id, organisation_id)
        return await build_report(conn, survey_id, target, min_group_size=min_group_size)


async def list_reports(
    deps: ReportingDeps, principal: Principal, survey_id: UUID
) -> list[ReportListItem]:
    """Organisations with a report of the survey: managers all, staff their own (if visible)."""
    async with (
        deps.connection() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        if is_manager(principal):
            rows = await repo.list_counted(conn, survey_id)
        else:
            try:
                own = await visible_organisation(conn, principal, survey_id, None)
            except NotFound:
                return []
            rows = await repo.list_counted(conn, survey_id, own)
    return [
        ReportListItem(
            organisation_id=r["organisation_id"],
            name=r["name"],
            province=r["province"],
            size_class=r["size_class"],
            submitted_at=r["submitted_at"],
        )
        for r in rows
        if r["name"] is not None
    ]
