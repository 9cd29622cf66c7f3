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


# The size classes' labels as the names of comparison groups, per locale: what reports,
# infographics and the web client's report page call "libraries of similar size".
SIZE_CLASS_GROUP_NAMES = {
    "nl": {
        "klein": "Kleine bibliotheken",
        "middelgroot": "Middelgrote bibliotheken",
        "groot": "Grote bibliotheken",
        "zeer groot": "Zeer grote bibliotheken",
    },
    "en": {
        "klein": "Small libraries",
        "middelgroot": "Medium-sized libraries",
        "groot": "Large libraries",
        "zeer groot": "Very large libraries",
    },
}


def size_class_group_name(label: str, locale: str) -> str | None:
    """The group name of a size class's Dutch label ("middelgroot" → "Middelgrote
    bibliotheken"), None for a label it does not know."""
    return SIZE_CLASS_GROUP_NAMES.get(locale, {}).get(label.strip().lower())


def canonical_province(value: str) -> str | None:
    """The official spelling of a province, or None when it is not a Dutch province."""
    stripped = value.strip()
    for province in PROVINCES:
        if province.casefold() == stripped.casefold():
            return province
    return _PROVINCE_ALIASES.get(stripped.casefold())
