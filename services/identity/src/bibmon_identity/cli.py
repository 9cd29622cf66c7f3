"""`bibmon-identity migrate|serve`."""

from __future__ import annotations

from bibmon_common.cli import run_cli
from bibmon_identity.config import IdentitySettings
from bibmon_identity.main import MIGRATIONS_DIR


def main() -> None:
    """Entry point of the bibmon-identity command."""
    run_cli("identity", IdentitySettings, MIGRATIONS_DIR, default_port=8101)
