"""`bibmon-responses migrate|serve`."""

from __future__ import annotations

from bibmon_common.cli import run_cli
from bibmon_responses.config import ResponsesSettings
from bibmon_responses.main import MIGRATIONS_DIR


def main() -> None:
    """Entry point of the bibmon-responses command."""
    run_cli("responses", ResponsesSettings, MIGRATIONS_DIR, default_port=8103)
