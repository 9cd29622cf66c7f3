"""A realistic sample report for tests, the rendering bench and previews of the layout.

The figures are made from seeded random answers and summarised the way the benchmark
computation does (median and quartiles by linear interpolation, percentile rank with ties
as half), so what the renderers show is internally consistent. Not real library data.
"""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime
from uuid import UUID

from bibmon_reporting.report_model import (
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

SURVEY_ID = UUID("5e1f0c2a-8d3b-4c71-9a0e-2b6d4f8a1c33")
ORGANISATION_ID = UUID("0b7c9e44-1f2a-4d6b-8c3e-5a9d7f1e2b40")
GROUPS: tuple[tuple[GroupKind, str], ...] = (
    ("national", "Nederland"),
    ("province", "Gelderland"),
    ("size_class", "middelgroot"),
)
# Organisations per group in the sample; the size class is small on purpose for some
# questions so the report shows "te weinig deelnemers".
GROUP_SIZES = {"national": 123, "province": 14, "size_class": 31}


def summarise(
    kind: GroupKind, label: str, values: list[float], own: float | None, min_size: int
) -> NumericGroup:
    """One group's figures, as the benchmark computation would give them."""
    n = len(values)
    if n < min_size:
        return NumericGroup(kind=kind, label=label, n=n, too_few=True)
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    rank = None
    if own is not None:
        below = sum(v < own for v in values)
        ties = sum(v == own for v in values)
        rank = 100 * (below + ties / 2) / n
    return NumericGroup(
        kind=kind,
        label=label,
        n=n,
        too_few=False,
        mean=statistics.fmean(values),
        median=median,
        q1=q1,
        q3=q3,
        min=min(values),
        max=max(values),
        percentile_rank=rank,
    )


def _figures(
    rng: random.Random,
    own: float | None,
    centre: float,
    spread: float,
    min_size: int,
    sizes: dict[str, int],
    decimals: int = 0,
) -> NumericFigures:
    groups = []
    for kind, label in GROUPS:
        shift = {"national": 1.0, "province": 1.08, "size_class": 0.94}[kind]
        values = [
            round(max(0.0, rng.gauss(centre * shift, spread)), decimals) for _ in range(sizes[kind])
        ]
        groups.append(summarise(kind, label, values, own, min_size))
    return NumericFigures(own=own, groups=tuple(groups))


def _numeric(
    rng: random.Random,
    key: str,
    label: str,
    own: float | None,
    centre: float,
    *,
    unit: str = "",
    inhabitants: int | None = None,
    key_figure: bool = False,
    min_size: int = 3,
    sizes: dict[str, int] | None = None,
    decimals: int = 0,
) -> QuestionBenchmark:
    sizes = sizes or GROUP_SIZES
    numeric = _figures(rng, own, centre, centre * 0.3, min_size, sizes, decimals)
    per_inhabitant = None
    if inhabitants:
        per_own = None if own is None else own / inhabitants * 1000
        per_centre = centre / inhabitants * 1000
        per_inhabitant = _figures(rng, per_own, per_centre, per_centre * 0.25, min_size, sizes, 2)
    return QuestionBenchmark(
        key=key,
        label=label,
        type="integer" if decimals == 0 else "decimal",
        unit=unit,
        key_figure=key_figure,
        numeric=numeric,
        per_inhabitant=per_inhabitant,
    )


def _choice(
    key: str,
    label: str,
    qtype: str,
    options: list[tuple[str, str]],
    own: tuple[str, ...],
    distributions: dict[str, list[float]],
    min_size: int,
    sizes: dict[str, int],
) -> QuestionBenchmark:
    groups = []
    for kind, group_label in GROUPS:
        n = sizes[kind]
        if n < min_size:
            groups.append(ChoiceGroup(kind=kind, label=group_label, n=n, too_few=True))
            continue
        shares = tuple(
            ChoiceShare(value=value, label=option_label, percent=pct)
            for (value, option_label), pct in zip(options, distributions[kind], strict=True)
        )
        groups.append(ChoiceGroup(kind=kind, label=group_label, n=n, too_few=False, shares=shares))
    return QuestionBenchmark(key=key, label=label, type=qtype, own_choice=own, choice=tuple(groups))


def sample_report(
    *,
    organisation_name: str = "Bibliotheek Rivierenland",
    min_group_size: int = 3,
    seed: int = 2026,
) -> OrganisationReport:
    """A report with three sections: counts per inhabitant, other numbers, choices."""
    rng = random.Random(seed)
    inhabitants = 104_350
    small = {"national": 123, "province": 14, "size_class": 2}
    use = SectionBenchmark(
        key="gebruik",
        title="Leden en gebruik",
        questions=(
            _numeric(
                rng,
                "leden",
                "Aantal leden",
                21_480,
                19_000,
                inhabitants=inhabitants,
                key_figure=True,
            ),
            _numeric(
                rng,
                "uitleningen",
                "Aantal uitleningen (fysiek en digitaal)",
                412_937,
                380_000,
                inhabitants=inhabitants,
                key_figure=True,
            ),
            _numeric(
                rng,
                "bezoeken",
                "Aantal bezoeken aan de vestigingen",
                298_410,
                310_000,
                inhabitants=inhabitants,
                key_figure=True,
            ),
            _numeric(
                rng,
                "activiteiten",
                "Aantal georganiseerde activiteiten",
                1_184,
                950,
                inhabitants=inhabitants,
            ),
        ),
    )
    organisation = SectionBenchmark(
        key="organisatie",
        title="Organisatie en financiën",
        questions=(
            _numeric(
                rng,
                "openingsuren",
                "Openingsuren per week (alle vestigingen samen)",
                186.5,
                160,
                unit="uur",
                key_figure=True,
                decimals=1,
            ),
            _numeric(
                rng,
                "fte",
                "Personeel in dienst",
                42.6,
                38.0,
                unit="fte",
                key_figure=True,
                decimals=1,
            ),
            _numeric(
                rng,
                "lasten",
                "Totale lasten",
                6_215_000,
                5_800_000,
                unit="€",
                inhabitants=inhabitants,
                key_figure=True,
                sizes=small,
                min_size=min_group_size,
            ),
            _numeric(rng, "vrijwilligers", "Aantal vrijwilligers", None, 85),
        ),
    )
    activities = SectionBenchmark(
        key="samenwerking",
        title="Activiteiten en samenwerking",
        questions=(
            _choice(
                "dhp",
                "Heeft de bibliotheek een Digitaal Hulpplein?",
                "yes_no",
                [("true", "Ja"), ("false", "Nee")],
                ("true",),
                {"national": [87.8, 12.2], "province": [92.9, 7.1], "size_class": [90.3, 9.7]},
                min_group_size,
                GROUP_SIZES,
            ),
            _choice(
                "onderwijs",
                "Met welke vorm van onderwijs werkt de bibliotheek structureel samen?",
                "choice",
                [
                    ("po", "Primair onderwijs"),
                    ("vo", "Voortgezet onderwijs"),
                    ("mbo", "Middelbaar beroepsonderwijs"),
                    ("geen", "Geen"),
                ],
                ("po",),
                {"national": [71.5, 18.7, 6.5, 3.3], "province": [64.3, 28.6, 7.1, 0.0]},
                min_group_size,
                small,
            ),
        ),
    )
    return OrganisationReport(
        survey=SurveyInfo(
            id=SURVEY_ID,
            title="Bibliotheekmonitor 2026",
            series_key="bibliotheekmonitor",
            closed_at=datetime(2026, 4, 1, 10, 0, tzinfo=UTC),
            questionnaire_version=3,
        ),
        organisation=OrganisationInfo(
            id=ORGANISATION_ID,
            name=organisation_name,
            province="Gelderland",
            size_class="medium",
            size_class_label="middelgroot",
            inhabitants=inhabitants,
        ),
        computed_at=datetime(2026, 4, 1, 10, 5, 12, tzinfo=UTC),
        min_group_size=min_group_size,
        counted=123,
        sections=(use, organisation, activities),
    )


def large_report(
    *, sections: int = 12, questions_per_section: int = 25, seed: int = 7
) -> OrganisationReport:
    """A report the size of the national library statistics (default 300 questions).

    Every fifth question is a yes/no question, every third numeric one is per inhabitant
    and the first six numeric ones are key figures; for the rendering bench.
    """
    rng = random.Random(seed)
    base = sample_report()
    inhabitants = base.organisation.inhabitants or 100_000
    built: list[SectionBenchmark] = []
    key_figures = 0
    for s in range(sections):
        questions: list[QuestionBenchmark] = []
        for q in range(questions_per_section):
            key = f"s{s + 1}_q{q + 1}"
            if q % 5 == 4:
                yes = round(rng.uniform(40, 95), 1)
                questions.append(
                    _choice(
                        key,
                        f"Vraag {s + 1}.{q + 1}: biedt de bibliotheek deze dienst aan?",
                        "yes_no",
                        [("true", "Ja"), ("false", "Nee")],
                        (rng.choice(["true", "false"]),),
                        {kind: [yes, round(100 - yes, 1)] for kind, _ in GROUPS},
                        base.min_group_size,
                        GROUP_SIZES,
                    )
                )
                continue
            centre = rng.choice([12, 150, 2_400, 48_000, 1_250_000])
            questions.append(
                _numeric(
                    rng,
                    key,
                    f"Vraag {s + 1}.{q + 1}: aantal (onderdeel {q + 1} van sectie {s + 1})",
                    round(centre * rng.uniform(0.6, 1.5)),
                    centre,
                    inhabitants=inhabitants if q % 3 == 0 else None,
                    key_figure=key_figures < 6,
                )
            )
            key_figures += 1
        built.append(
            SectionBenchmark(key=f"s{s + 1}", title=f"Sectie {s + 1}", questions=tuple(questions))
        )
    return base.model_copy(update={"sections": tuple(built)})
