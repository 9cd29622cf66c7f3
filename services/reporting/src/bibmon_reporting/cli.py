"""`bibmon-reporting migrate|serve`."""

from __future__ import annotations

from bibmon_common.cli import run_cli
from bibmon_reporting.config import ReportingSettings
from bibmon_reporting.main import MIGRATIONS_DIR


def main() -> None:
    """Entry point of the bibmon-reporting command."""
    run_cli("reporting", ReportingSettings, MIGRATIONS_DIR, default_port=8104)
