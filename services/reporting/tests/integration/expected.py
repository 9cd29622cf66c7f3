"""An independent computation of every benchmark figure with Python's statistics module.

Deliberately naive (per organisation, per group, over the raw answers) so it shares no
code with the SQL it checks. Quartiles: `statistics.quantiles(method="inclusive")`, the
same definition as PostgreSQL's `percentile_cont` (linear interpolation between ranks).
"""

from __future__ import annotations

import math
import statistics
from typing import Any
from uuid import UUID

from bibmon_common.organisations import SizeClass
from bibmon_common.questionnaire import Questionnaire


def _group_members(
    organisation: dict[str, Any], organisations: dict[UUID, dict[str, Any]]
) -> dict[str, list[UUID]]:
    return {
        "national": list(organisations),
        "province": [
            i for i, o in organisations.items() if o["province"] == organisation["province"]
        ],
        "size_class": [
            i for i, o in organisations.items() if o["size_class"] == organisation["size_class"]
        ],
    }


def _numeric_groups(
    own: float | None, members: dict[str, list[UUID]], values: dict[UUID, float], min_size: int
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind, ids in members.items():
        xs = sorted(values[i] for i in ids if i in values)
        if len(xs) < min_size:
            out[kind] = {"n": len(xs), "too_few": True}
            continue
        q1, median, q3 = (
            statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3
        )
        rank = None
        if own is not None:
            below = sum(1 for x in xs if x < own)
            equal = sum(1 for x in xs if x == own)
            rank = (below + 0.5 * equal) / len(xs) * 100
        out[kind] = {
            "n": len(xs),
            "too_few": False,
            "mean": statistics.mean(xs),
            "median": statistics.median(xs),
            "q1": q1,
            "q3": q3,
            "min": min(xs),
            "max": max(xs),
            "percentile_rank": rank,
            "_median_check": median,
        }
    return out


def expected_report(
    questionnaire: Questionnaire,
    organisation_id: UUID,
    organisations: dict[UUID, dict[str, Any]],
    answers: dict[UUID, dict[str, Any]],
    min_size: int = 3,
) -> dict[str, dict[str, Any]]:
    """question key → {numeric, per_inhabitant, choice, own} for one organisation.

    `organisations` holds the counted organisations' facts, `answers` their counted answers.
    """
    organisation = organisations[organisation_id]
    members = _group_members(organisation, organisations)
    out: dict[str, dict[str, Any]] = {}
    for q in questionnaire.questions():
        mine = answers.get(organisation_id, {}).get(q.key)
        if q.numeric:
            values = {i: float(a[q.key]) for i, a in answers.items() if a.get(q.key) is not None}
            entry: dict[str, Any] = {
                "own": None if mine is None else float(mine),
                "numeric": _numeric_groups(
                    None if mine is None else float(mine), members, values, min_size
                ),
            }
            if q.per_inhabitant:
                per = {
                    i: v * 1000 / organisations[i]["inhabitants"]
                    for i, v in values.items()
                    if organisations[i]["inhabitants"] > 0
                }
                own_per = per.get(organisation_id)
                entry["per_inhabitant"] = _numeric_groups(own_per, members, per, min_size)
                entry["own_per"] = own_per
            out[q.key] = entry
        elif q.type in ("yes_no", "single_choice", "multiple_choice"):
            options = ["true", "false"] if q.type == "yes_no" else [o.value for o in q.options]

            def chosen(value: Any) -> list[str]:
                if isinstance(value, bool):
                    return ["true" if value else "false"]
                return value if isinstance(value, list) else [value]

            groups: dict[str, dict[str, Any]] = {}
            for kind, ids in members.items():
                given = [
                    chosen(answers[i][q.key])
                    for i in ids
                    if answers.get(i, {}).get(q.key) is not None
                ]
                if len(given) < min_size:
                    groups[kind] = {"n": len(given), "too_few": True}
                    continue
                groups[kind] = {
                    "n": len(given),
                    "too_few": False,
                    "shares": {
                        o: sum(1 for g in given if o in g) * 100 / len(given) for o in options
                    },
                }
            out[q.key] = {
                "own_choice": None if mine is None else chosen(mine),
                "choice": groups,
            }
    return out


def assert_numeric_group(actual: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    """Every figure of one group equals the independent computation."""
    assert actual["n"] == expected["n"], where
    assert actual["too_few"] == expected["too_few"], where
    if expected["too_few"]:
        for name in ("mean", "median", "q1", "q3", "min", "max", "percentile_rank"):
            assert actual[name] is None, f"{where}: {name} shown for too few"
        return
    for name in ("mean", "median", "q1", "q3", "min", "max", "percentile_rank"):
        want = expected[name]
        got = actual[name]
        if want is None:
            assert got is None, f"{where}: {name}"
        else:
            assert got is not None, f"{where}: {name} missing"
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), (
                f"{where}: {name} {got} != {want}"
            )


def size_label(key: str) -> str:
    return SizeClass(key).label


def assert_report_matches(
    report: dict[str, Any], want: dict[str, dict[str, Any]], questionnaire: Questionnaire
) -> None:
    """Every figure of one organisation's benchmark report equals `expected_report`'s."""
    where = report["organisation"]["name"]
    questions = {q["key"]: q for s in report["sections"] for q in s["questions"]}
    assert set(questions) == set(want), where
    for q in questionnaire.questions():
        if q.key not in want:
            continue
        got, exp = questions[q.key], want[q.key]
        if "numeric" in exp:
            assert got["numeric"]["own"] == exp["own"], f"{where} {q.key} own"
            kinds = [g["kind"] for g in got["numeric"]["groups"]]
            assert kinds == ["national", "province", "size_class"], f"{where} {q.key}"
            for group in got["numeric"]["groups"]:
                assert_numeric_group(
                    group, exp["numeric"][group["kind"]], f"{where} {q.key} {group['kind']}"
                )
            if not q.per_inhabitant:
                assert got["per_inhabitant"] is None, f"{where} {q.key} per_1000 shown"
                continue
            per = got["per_inhabitant"]
            assert per is not None, f"{where} {q.key} per_1000 missing"
            if exp["own_per"] is None:
                assert per["own"] is None
            else:
                assert math.isclose(per["own"], exp["own_per"], rel_tol=1e-12), where
            for group in per["groups"]:
                assert_numeric_group(
                    group,
                    exp["per_inhabitant"][group["kind"]],
                    f"{where} {q.key} per_1000 {group['kind']}",
                )
        else:
            mine = got["own_choice"]
            assert (mine and sorted(mine)) == (exp["own_choice"] and sorted(exp["own_choice"])), (
                f"{where} {q.key} own"
            )
            for group in got["choice"]:
                want_group = exp["choice"][group["kind"]]
                assert group["n"] == want_group["n"], f"{where} {q.key} {group['kind']}"
                assert group["too_few"] == want_group["too_few"], f"{where} {q.key}"
                if want_group["too_few"]:
                    assert group["shares"] == [], f"{where} {q.key} shares shown for too few"
                    continue
                shares = {s["value"]: s["percent"] for s in group["shares"]}
                assert set(shares) == set(want_group["shares"]), f"{where} {q.key}"
                for option, percent in want_group["shares"].items():
                    assert math.isclose(shares[option], percent, rel_tol=1e-9, abs_tol=1e-9), (
                        f"{where} {q.key} {group['kind']} {option}: {shares[option]} != {percent}"
                    )
