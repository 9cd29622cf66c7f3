"""Public master data about library organisations that several services need.

Identity owns the organisations; surveys (participant filters) and reporting (benchmark
groups) use the same twelve provinces and size classes, so they are defined once here.
"""

from __future__ import annotations

from enum import StrEnum

# The twelve provinces, in their official spelling.
PROVINCES = (
    "Drenthe",
    "Flevoland",
    "Fryslân",
    "Gelderland",
    "Groningen",
    "Limburg",
    "Noord-Brabant",
    "Noord-Holland",
    "Overijssel",
    "Utrecht",
    "Zeeland",
    "Zuid-Holland",
)
_PROVINCE_ALIASES = {"friesland": "Fryslân", "fryslan": "Fryslân"}


class SizeClass(StrEnum):
    """Size class by population served; stable keys (identity derives them), Dutch labels."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    VERY_LARGE = "very_large"

    @property
    def label(self) -> str:
        """Dutch label."""
        return {
            "small": "klein",
            "medium": "middelgroot",
            "large": "groot",
            "very_large": "zeer groot",
        }[self.value]


def canonical_province(value: str) -> str | None:
    """The official spelling of a province, or None when it is not a Dutch province."""
    stripped = value.strip()
    for province in PROVINCES:
        if province.casefold() == stripped.casefold():
            return province
    return _PROVINCE_ALIASES.get(stripped.casefold())
