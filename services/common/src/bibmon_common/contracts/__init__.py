"""Message contracts, one module per producing service; importing this registers them all."""

from __future__ import annotations

from bibmon_common.contracts import identity, notifier, reporting, responses, surveys
from bibmon_common.events import Message, registry

__all__ = ["all_messages", "identity", "notifier", "reporting", "responses", "surveys"]


def all_messages() -> list[type[Message]]:
    """Every registered contract, sorted by type (input for AsyncAPI / JSON Schema)."""
    # Only the published contracts: tests may register throw-away message types.
    return [
        registry[type_]
        for type_ in sorted(registry)
        if registry[type_].__module__.startswith("bibmon_common.contracts.")
    ]
