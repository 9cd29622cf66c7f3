"""Identity consumes no messages yet: it is the source of its facts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bibmon_common.app import ServiceContext


def build(ctx: ServiceContext) -> Sequence[Any]:
    """No consumers."""
    return []
