"""`bibmon-surveys migrate|serve`."""

from __future__ import annotations

from bibmon_common.cli import run_cli
from bibmon_surveys.config import SurveysSettings
from bibmon_surveys.main import MIGRATIONS_DIR


def main() -> None:
    """Entry point of the bibmon-surveys command."""
    run_cli("surveys", SurveysSettings, MIGRATIONS_DIR, default_port=8102)
