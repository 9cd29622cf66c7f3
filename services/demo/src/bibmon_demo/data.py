"""Demo data shared by surveys and responses: two Wsob surveys of one series and answers.

`make run` loads demo data into empty databases (README.md, "The two commands"). Each service
seeds only its own database from these constants, so the two always agree:

- surveys creates the closed survey of `DEMO_CLOSED_YEAR` and the open one of
  `DEMO_OPEN_YEAR` (fixed ids, one `DEMO_SERIES_KEY`, one `DEMO_QUESTIONNAIRE`) and
  announces them with its ordinary events;
- responses, on `surveys.survey.published.v1` for `DEMO_CLOSED_SURVEY_ID`, submits
  `demo_answers(organisation_id, DEMO_CLOSED_YEAR)` for every participant.

The answers are made up but plausible for a Dutch public library organisation (orders of
magnitude of the national library statistics), deterministic per organisation, and any
two years of one organisation lie within ±20 % of each other, so the plausibility check
of the next survey of the series stays quiet for demo figures.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from typing import Any

from bibmon_common.questionnaire import Questionnaire

DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://bibliotheekmonitor.nl/demo")
DEMO_SERIES_KEY = "wsob-jaarlijks"
DEMO_CLOSED_YEAR = 2025
DEMO_OPEN_YEAR = 2026
DEMO_CLOSED_SURVEY_ID = uuid.uuid5(DEMO_NAMESPACE, f"survey/{DEMO_SERIES_KEY}/{DEMO_CLOSED_YEAR}")
DEMO_OPEN_SURVEY_ID = uuid.uuid5(DEMO_NAMESPACE, f"survey/{DEMO_SERIES_KEY}/{DEMO_OPEN_YEAR}")

FOCUS_OPTIONS = (
    ("leesbevordering", "Leesbevordering"),
    ("digitale_vaardigheden", "Digitale vaardigheden en digitale overheid"),
    ("laaggeletterdheid", "Aanpak laaggeletterdheid"),
    ("informatievaardigheden", "Informatievaardigheden en mediawijsheid"),
    ("ontmoeting_en_debat", "Ontmoeting en debat"),
)


def _q(key: str, type_: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "label": label, **extra}


DEMO_QUESTIONNAIRE = Questionnaire.model_validate(
    {
        "sections": [
            {
                "key": "collectie",
                "title": "Collectie en uitleningen",
                "description": "Peildatum voor de collectie is 31 december van het verslagjaar.",
                "questions": [
                    _q(
                        "collection_items",
                        "integer",
                        "Omvang van de fysieke collectie (aantal exemplaren)",
                        required=True,
                        min=0,
                        unit="exemplaren",
                    ),
                    _q(
                        "loans",
                        "integer",
                        "Aantal uitleningen van fysieke materialen",
                        help="Inclusief verlengingen, exclusief e-books.",
                        required=True,
                        min=0,
                        unit="uitleningen",
                    ),
                ],
            },
            {
                "key": "bezoek",
                "title": "Bezoek en leden",
                "questions": [
                    _q(
                        "visits",
                        "integer",
                        "Aantal fysieke bezoeken aan alle vestigingen",
                        required=True,
                        min=0,
                        unit="bezoeken",
                    ),
                    _q(
                        "members",
                        "integer",
                        "Aantal leden op 31 december",
                        required=True,
                        min=0,
                        unit="leden",
                    ),
                    _q(
                        "youth_members_share",
                        "percentage",
                        "Aandeel jeugdleden (0 tot en met 17 jaar)",
                        required=True,
                        unit="%",
                    ),
                    _q(
                        "has_branches",
                        "yes_no",
                        "Heeft de organisatie naast de hoofdvestiging nog andere vestigingen?",
                        required=True,
                    ),
                    _q(
                        "branch_count",
                        "integer",
                        "Aantal vestigingen, inclusief de hoofdvestiging",
                        required=True,
                        min=2,
                        max=60,
                        show_if={"question": "has_branches", "equals": True},
                    ),
                ],
            },
            {
                "key": "activiteiten",
                "title": "Activiteiten",
                "questions": [
                    _q(
                        "activities",
                        "integer",
                        "Aantal georganiseerde activiteiten",
                        help="Educatie, leesbevordering, lezingen en debat; elke bijeenkomst "
                        "telt één keer.",
                        required=True,
                        min=0,
                    ),
                    _q(
                        "activity_participants",
                        "integer",
                        "Aantal deelnemers aan activiteiten",
                        min=0,
                    ),
                    {
                        **_q(
                            "main_focus",
                            "single_choice",
                            "Belangrijkste speerpunt van het activiteitenprogramma",
                            required=True,
                        ),
                        "options": [{"value": v, "label": label} for v, label in FOCUS_OPTIONS],
                    },
                ],
            },
            {
                "key": "personeel_financien",
                "title": "Personeel en financiën",
                "questions": [
                    _q(
                        "staff_fte",
                        "decimal",
                        "Personeel in loondienst (fte) op 31 december",
                        required=True,
                        min=0,
                        unit="fte",
                    ),
                    _q("volunteers", "integer", "Aantal vrijwilligers", min=0),
                    _q(
                        "budget",
                        "amount",
                        "Totale exploitatielasten",
                        required=True,
                        min=0,
                        unit="EUR",
                    ),
                    _q("remarks", "long_text", "Toelichting op de cijfers"),
                ],
            },
        ]
    }
)

_REMARKS = (
    "Een vestiging was in het voorjaar drie maanden gesloten voor verbouwing.",
    "Het aantal activiteiten steeg door het programma voor de Bibliotheek op school.",
    "Sinds dit jaar tellen wij bezoeken met nieuwe poortjes; de cijfers zijn nauwkeuriger.",
    "De collectie is opgeschoond; verouderde non-fictie is afgevoerd.",
    "Het Informatiepunt Digitale Overheid is dit jaar in alle vestigingen geopend.",
)


def _rng(*parts: object) -> random.Random:
    """A generator seeded by a stable hash (Python's hash() differs between processes)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


# From one year to the next every figure changes by a factor in 1 ± _DRIFT, applied to
# the rounded figure of the year before: so a figure differs from the previous year's by
# at most 10 % plus rounding, which stays within 20 % (a small count does not change).
_DRIFT = 0.1
_INTEGERS = (
    "collection_items",
    "loans",
    "visits",
    "members",
    "branch_count",
    "activities",
    "activity_participants",
    "volunteers",
)
_LIMITS = {"youth_members_share": (0.0, 100.0), "branch_count": (2, 60), "activities": (1, None)}


def _round(key: str, value: float) -> int | float:
    if key in _INTEGERS:
        rounded: int | float = round(value)
    elif key == "budget":
        rounded = round(value, 2)
    else:
        rounded = round(value, 1)
    low, high = _LIMITS.get(key, (0, None))
    rounded = max(low, rounded)
    return min(high, rounded) if high is not None else rounded


def _base_figures(organisation_id: uuid.UUID | str) -> dict[str, Any]:
    """The organisation's figures of `DEMO_CLOSED_YEAR`, before leaving out optional ones."""
    base = _rng("demo-base", organisation_id)
    # The population served, 15,000 to 450,000 (log-uniform, as the register is).
    inhabitants = math.exp(base.uniform(math.log(15_000), math.log(450_000)))
    members = inhabitants * base.uniform(0.12, 0.26)
    activities = inhabitants * base.uniform(0.004, 0.012)
    fte = inhabitants / 10_000 * base.uniform(2.5, 5.0)
    raw = {
        "collection_items": inhabitants * base.uniform(0.7, 1.5),
        "loans": members * base.uniform(10.0, 18.0),
        "visits": inhabitants * base.uniform(1.5, 3.5),
        "members": members,
        "youth_members_share": base.uniform(24.0, 42.0),
        "branch_count": 2 + inhabitants / 30_000 + base.uniform(0, 3),
        "activities": activities,
        "activity_participants": activities * base.uniform(12.0, 30.0),
        "staff_fte": fte,
        "volunteers": fte * base.uniform(0.5, 2.5),
        "budget": inhabitants * base.uniform(28.0, 42.0),
    }
    figures: dict[str, Any] = {key: _round(key, value) for key, value in raw.items()}
    figures["has_branches"] = inhabitants > 45_000 or base.random() < 0.4
    figures["main_focus"] = base.choice(FOCUS_OPTIONS)[0]
    figures["_optional"] = {
        "activity_participants": base.random() < 0.8,
        "volunteers": base.random() < 0.7,
    }
    return figures


def demo_answers(organisation_id: uuid.UUID | str, year: int) -> dict[str, Any]:
    """Plausible, valid answers of one organisation to `DEMO_QUESTIONNAIRE` for `year`.

    Deterministic: the same organisation and year always give the same answers. The
    organisation's size comes from its id; its figures move from year to year by at most
    about 10 % (never more than 20 %), its yes/no and choice answers stay the same.
    """
    figures = _base_figures(organisation_id)
    optional: dict[str, bool] = figures.pop("_optional")
    step = 1 if year >= DEMO_CLOSED_YEAR else -1
    for y in range(DEMO_CLOSED_YEAR + step, year + step, step):
        drift = _rng("demo-year", organisation_id, y)
        for key, value in figures.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                figures[key] = _round(key, value * drift.uniform(1 - _DRIFT, 1 + _DRIFT))
    answers = {
        question.key: figures[question.key]
        for question in DEMO_QUESTIONNAIRE.questions()
        if question.key in figures
        and optional.get(question.key, True)
        and (question.key != "branch_count" or figures["has_branches"])
    }
    remark = _rng("demo-remark", organisation_id, year)
    if remark.random() < 0.3:
        answers["remarks"] = remark.choice(_REMARKS)
    return answers


__all__ = [
    "DEMO_CLOSED_SURVEY_ID",
    "DEMO_CLOSED_YEAR",
    "DEMO_NAMESPACE",
    "DEMO_OPEN_SURVEY_ID",
    "DEMO_OPEN_YEAR",
    "DEMO_QUESTIONNAIRE",
    "DEMO_SERIES_KEY",
    "demo_answers",
]
