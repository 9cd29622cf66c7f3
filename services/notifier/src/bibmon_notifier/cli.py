"""`bibmon-notifier migrate|serve`."""

from __future__ import annotations

from bibmon_common.cli import run_cli
from bibmon_notifier.config import NotifierSettings
from bibmon_notifier.main import MIGRATIONS_DIR

DEFAULT_PORT = 8105


def main() -> None:
    """Entry point of the bibmon-notifier command."""
    run_cli("notifier", NotifierSettings, MIGRATIONS_DIR, default_port=DEFAULT_PORT)
