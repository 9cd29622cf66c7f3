"""Check deploy/prometheus/alerts.yml against the code and the docs (runs with or without promtool).

    python deploy/prometheus/check_rules.py

- the file is a Prometheus rule file in shape (groups → rules with alert, expr, labels);
- every alert has a severity (warning or critical), a summary and a runbook whose
  anchor is a heading of docs/operations.md;
- the alerts the operators rely on exist (outbox lag, parking, failed e-mails,
  consumers down);
- every `bibmon_*` metric an expression uses is one the services export
  (bibmon_common/metrics.py), so a renamed metric cannot silence an alert.
`promtool check rules` and `promtool test rules` (scripts/validate-deploy.sh) check the
PromQL itself when Prometheus' tools are installed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "alerts.yml"
METRICS = REPO / "services" / "common" / "src" / "bibmon_common" / "metrics.py"
OPERATIONS = REPO / "docs" / "operations.md"

REQUIRED = {
    "OutboxLagHigh",
    "OutboxLagCritical",
    "MessagesParked",
    "ParkingDepthHigh",
    "EmailsFailing",
    "ConsumerDown",
}
SEVERITIES = {"warning", "critical"}
# prometheus_client adds these to counters and histograms.
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def exported_metrics() -> set[str]:
    """Names the services export, from the metric definitions in metrics.py."""
    names = set(re.findall(r'(?:Counter|Gauge|Histogram)\(\s*"(bibmon_\w+)"', METRICS.read_text()))
    return names


def anchors() -> set[str]:
    """GitHub-style anchors of the headings of docs/operations.md."""
    out = set()
    for line in OPERATIONS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


def problems() -> list[str]:
    """Everything wrong with the rule file, one line each."""
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        return ["alerts.yml: no `groups` list"]
    found: list[str] = []
    seen: set[str] = set()
    exported = exported_metrics()
    headings = anchors()
    for group in doc["groups"]:
        if not isinstance(group, dict) or not group.get("name") or not group.get("rules"):
            found.append(f"group without name or rules: {group!r:.80}")
            continue
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            if not name or not isinstance(rule.get("expr"), str):
                found.append(f"{group['name']}: a rule without alert/record name or expr")
                continue
            seen.add(name)
            unknown = {
                m
                for m in re.findall(r"\bbibmon_\w+", rule["expr"])
                if m not in exported and not any(m.removesuffix(s) in exported for s in SUFFIXES)
            }
            if unknown:
                found.append(f"{name}: metric(s) no service exports: {sorted(unknown)}")
            if "alert" not in rule:
                continue
            if (rule.get("labels") or {}).get("severity") not in SEVERITIES:
                found.append(f"{name}: labels.severity must be one of {sorted(SEVERITIES)}")
            notes = rule.get("annotations") or {}
            if not notes.get("summary"):
                found.append(f"{name}: no annotations.summary")
            runbook = str(notes.get("runbook", ""))
            anchor = runbook.partition("#")[2]
            if not runbook.startswith("docs/operations.md#") or anchor not in headings:
                found.append(f"{name}: runbook {runbook!r} is not a heading of docs/operations.md")
    for name in sorted(REQUIRED - seen):
        found.append(f"missing alert {name}")
    return found


def main() -> int:
    """Print the problems; exit 1 when there are any."""
    found = problems()
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
