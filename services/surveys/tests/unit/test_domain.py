"""Survey rules without I/O: legal basis, dates, participants, status."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bibmon_surveys import domain

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


def _facts(**overrides):
    facts = {
        "mandatory": True,
        "legal_basis": "wsob",
        "legal_basis_name": None,
        "opens_at": NOW,
        "closes_at": NOW + timedelta(days=30),
    }
    facts.update(overrides)
    return facts


def _fields(errors):
    return {e["field"]: e["type"] for e in errors}


def test_wsob_survey_is_complete_without_a_name():
    assert domain.fact_errors(_facts()) == []


def test_mandatory_survey_without_basis_is_refused():
    assert _fields(domain.fact_errors(_facts(legal_basis=None))) == {"legal_basis": "required"}


def test_subsidy_needs_a_name_and_wsob_takes_none():
    assert _fields(domain.fact_errors(_facts(legal_basis="subsidy"))) == {
        "legal_basis_name": "required"
    }
    assert domain.fact_errors(_facts(legal_basis="subsidy", legal_basis_name="BV 2027")) == []
    assert _fields(domain.fact_errors(_facts(legal_basis_name="Wsob"))) == {
        "legal_basis_name": "not_allowed"
    }


def test_voluntary_survey_has_no_basis():
    errors = domain.fact_errors(
        _facts(mandatory=False, legal_basis="subsidy", legal_basis_name="x")
    )
    assert _fields(errors) == {"legal_basis": "not_allowed", "legal_basis_name": "not_allowed"}
    assert domain.fact_errors(_facts(mandatory=False, legal_basis=None)) == []


def test_closing_before_opening_is_refused():
    assert _fields(domain.fact_errors(_facts(closes_at=NOW))) == {"closes_at": "before_opens_at"}


@pytest.mark.parametrize(
    ("published_at", "closed_at", "now", "expected"),
    [
        (None, None, NOW, "draft"),
        (NOW, None, NOW - timedelta(days=1), "scheduled"),
        (NOW, None, NOW, "open"),
        (NOW, None, NOW + timedelta(days=30), "closed"),
        (NOW, NOW + timedelta(days=2), NOW + timedelta(days=3), "closed"),
    ],
)
def test_status_follows_the_clock(published_at, closed_at, now, expected):
    status = domain.status(
        published_at=published_at,
        closed_at=closed_at,
        opens_at=NOW,
        closes_at=NOW + timedelta(days=30),
        now=now,
    )
    assert status.value == expected


def test_filter_spells_provinces_officially_and_drops_duplicates():
    spec = domain.OrganisationFilter(
        mode="filter", provinces=["friesland", "Fryslân", "zeeland"], size_classes=["small"]
    )
    normal, errors = domain.normalise_participants(spec)
    assert errors == []
    assert normal.provinces == ["Fryslân", "Zeeland"]


def test_empty_filter_and_unknown_province_are_refused():
    _, errors = domain.normalise_participants(domain.OrganisationFilter(mode="filter"))
    assert _fields(errors) == {"participants": "empty_filter"}
    _, errors = domain.normalise_participants(
        domain.OrganisationFilter(mode="filter", provinces=["Bayern"])
    )
    assert _fields(errors) == {"participants.provinces.0": "unknown_province"}


def test_resolution_by_mode():
    a, b, c = (uuid.uuid4() for _ in range(3))
    register = [
        {"id": a, "province": "Utrecht", "size_class": "small"},
        {"id": b, "province": "Utrecht", "size_class": "large"},
        {"id": c, "province": "Zeeland", "size_class": "small"},
    ]
    assert domain.resolve(domain.AllOrganisations(mode="all"), register) == [a, b, c]
    small_utrecht = domain.OrganisationFilter(
        mode="filter", provinces=["Utrecht"], size_classes=["small"]
    )
    assert domain.resolve(small_utrecht, register) == [a]
    assert domain.resolve(
        domain.OrganisationFilter(mode="filter", size_classes=["small"]), register
    ) == [a, c]
    listed = domain.OrganisationList(mode="list", organisation_ids=[c, a])
    assert domain.resolve(listed, register) == [c, a]


def test_unknown_listed_organisations_are_named():
    known, unknown = uuid.uuid4(), uuid.uuid4()
    spec = domain.OrganisationList(mode="list", organisation_ids=[known, unknown])
    (error,) = domain.unknown_organisations(spec, [known])
    assert str(unknown) in error["message"]
    assert str(known) not in error["message"]


def test_only_changed_frozen_facts_count():
    current = {"mandatory": True, "opens_at": NOW, "title": "a", "series_key": None}
    assert domain.frozen_changes(current, {"mandatory": True, "title": "b"}) == []
    assert domain.frozen_changes(current, {"opens_at": NOW + timedelta(hours=1)}) == ["opens_at"]
