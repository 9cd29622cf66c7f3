"""Rules of a survey: legal basis, dates, participants, status; no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from bibmon_common.errors import field_error
from bibmon_common.organisations import SizeClass, canonical_province
from bibmon_common.text import PlainText

LegalBasis = Literal["wsob", "subsidy"]
SERIES_KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"


class Status(StrEnum):
    """Where a survey is in its life: draft → scheduled → open → closed."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


# Facts that are promised to the participants once a survey is published (SurveyPublished
# says so to consumers): they never change afterwards.
FROZEN_AFTER_PUBLISH = (
    "series_key",
    "mandatory",
    "legal_basis",
    "legal_basis_name",
    "opens_at",
    "participants",
)
EDITABLE_AFTER_PUBLISH = ("title", "description", "closes_at", "questionnaire")

# A survey opens and closes within these bounds (UTC); outside them a date is a typo, and
# far enough outside it cannot even be stored (PostgreSQL's timestamptz ends at 294276 AD
# and Python's datetime at year 9999 in UTC).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AllOrganisations(_Spec):
    """Every organisation in the register when the survey is published."""

    mode: Literal["all"]


class OrganisationList(_Spec):
    """Exactly these organisations."""

    mode: Literal["list"]
    organisation_ids: list[UUID] = Field(default_factory=list, max_length=5000)


class OrganisationFilter(_Spec):
    """Organisations in any of `provinces` and of any of `size_classes` (empty: no limit)."""

    mode: Literal["filter"]
    provinces: list[PlainText] = Field(default_factory=list, max_length=12)
    size_classes: list[SizeClass] = Field(default_factory=list, max_length=4)


ParticipantSpec = AllOrganisations | OrganisationList | OrganisationFilter
Participants = Annotated[ParticipantSpec, Field(discriminator="mode")]
PARTICIPANTS: TypeAdapter[ParticipantSpec] = TypeAdapter(Participants)


def no_participants() -> OrganisationList:
    """A draft's participants until the researcher chooses them."""
    return OrganisationList(mode="list", organisation_ids=[])


def normalise_participants(spec: ParticipantSpec) -> tuple[ParticipantSpec, list[dict[str, str]]]:
    """The spec with provinces spelt officially and duplicates removed, and its field errors."""
    errors: list[dict[str, str]] = []
    if isinstance(spec, OrganisationList):
        return OrganisationList(
            mode="list", organisation_ids=list(dict.fromkeys(spec.organisation_ids))
        ), errors
    if isinstance(spec, OrganisationFilter):
        provinces: list[str] = []
        for i, value in enumerate(spec.provinces):
            province = canonical_province(value)
            if province is None:
                errors.append(
                    field_error(
                        f"participants.provinces.{i}",
                        f"Unknown province {value!r}; use one of the twelve Dutch provinces.",
                        "unknown_province",
                    )
                )
            elif province not in provinces:
                provinces.append(province)
        if not spec.provinces and not spec.size_classes:
            errors.append(
                field_error(
                    "participants",
                    "A filter needs at least one province or size class; "
                    'use {"mode": "all"} for every organisation.',
                    "empty_filter",
                )
            )
        return OrganisationFilter(
            mode="filter",
            provinces=provinces,
            size_classes=list(dict.fromkeys(spec.size_classes)),
        ), errors
    return spec, errors


def matches(spec: OrganisationFilter, organisation: Mapping[str, Any]) -> bool:
    """Whether an organisation of the read model falls within a filter."""
    province_ok = not spec.provinces or organisation["province"] in spec.provinces
    size_ok = not spec.size_classes or organisation["size_class"] in spec.size_classes
    return province_ok and size_ok


def resolve(
    spec: ParticipantSpec,
    organisations: Iterable[Mapping[str, Any]],
) -> list[UUID]:
    """The ids of the participating organisations, in read-model order (list: as given)."""
    if isinstance(spec, OrganisationList):
        return list(spec.organisation_ids)
    if isinstance(spec, OrganisationFilter):
        return [o["id"] for o in organisations if matches(spec, o)]
    return [o["id"] for o in organisations]


def unknown_organisations(spec: ParticipantSpec, known: Iterable[UUID]) -> list[dict[str, str]]:
    """Field errors for listed organisation ids that the register does not know."""
    if not isinstance(spec, OrganisationList):
        return []
    known_ids = set(known)
    missing = [i for i in spec.organisation_ids if i not in known_ids]
    if not missing:
        return []
    names = ", ".join(str(i) for i in missing)
    return [
        field_error(
            "participants.organisation_ids",
            f"Unknown organisation id(s): {names}.",
            "unknown_organisation",
        )
    ]


def fact_errors(facts: Mapping[str, Any]) -> list[dict[str, str]]:
    """Field errors of a survey's legal basis and dates (the rules a draft must meet too)."""
    errors: list[dict[str, str]] = []
    basis, name = facts.get("legal_basis"), facts.get("legal_basis_name")
    if facts["mandatory"]:
        # A library must deliver data only where a rule obliges it: the Wsob (Wet stelsel
        # openbare bibliotheekvoorzieningen, art. 7 and 8) or the conditions of a subsidy.
        if basis is None:
            errors.append(
                field_error(
                    "legal_basis",
                    'A mandatory survey needs a legal basis: "wsob" or "subsidy".',
                    "required",
                )
            )
        elif basis == "subsidy" and not name:
            errors.append(
                field_error(
                    "legal_basis_name",
                    "Name the subsidy scheme that makes this survey mandatory.",
                    "required",
                )
            )
        elif basis == "wsob" and name is not None:
            errors.append(
                field_error(
                    "legal_basis_name",
                    "Only a subsidy needs a name; leave this empty for the Wsob.",
                    "not_allowed",
                )
            )
    else:
        if basis is not None:
            errors.append(
                field_error(
                    "legal_basis",
                    "A voluntary survey has no legal basis; leave this empty.",
                    "not_allowed",
                )
            )
        if name is not None:
            errors.append(
                field_error(
                    "legal_basis_name",
                    "A voluntary survey has no legal basis; leave this empty.",
                    "not_allowed",
                )
            )
    out_of_range = [
        name
        for name in ("opens_at", "closes_at")
        if not EARLIEST <= facts[name] <= LATEST  # aware comparisons never overflow
    ]
    for name in out_of_range:
        errors.append(
            field_error(
                name,
                "The date must lie between 2000-01-01 and 2100-01-01 (UTC).",
                "out_of_range",
            )
        )
    if not out_of_range and facts["closes_at"] <= facts["opens_at"]:
        errors.append(
            field_error("closes_at", "The survey must close after it opens.", "before_opens_at")
        )
    return errors


def deadline_errors(closes_at: datetime, now: datetime) -> list[dict[str, str]]:
    """A survey is published, or its deadline moved, only while it closes in the future."""
    if closes_at > now:
        return []
    return [field_error("closes_at", "The closing time must be in the future.", "in_the_past")]


def status(
    *,
    published_at: datetime | None,
    closed_at: datetime | None,
    opens_at: datetime,
    closes_at: datetime,
    now: datetime,
) -> Status:
    """The status at `now`; past its deadline a survey is closed even before the closer ran."""
    if published_at is None:
        return Status.DRAFT
    if closed_at is not None or now >= closes_at:
        return Status.CLOSED
    if now < opens_at:
        return Status.SCHEDULED
    return Status.OPEN


def frozen_changes(current: Mapping[str, Any], changes: Mapping[str, Any]) -> list[str]:
    """Which frozen facts a change to a published survey would alter."""
    return [
        name for name in FROZEN_AFTER_PUBLISH if name in changes and changes[name] != current[name]
    ]
