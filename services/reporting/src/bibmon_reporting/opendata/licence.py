"""The licences an open dataset can carry (setting `BIBMON_REPORTING_OPEN_DATA_LICENCE`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

LicenceId = Literal["CC0-1.0", "CC-BY-4.0"]


@dataclass(frozen=True)
class Licence:
    """A licence by SPDX id, with its canonical URI (what DCAT-AP's dct:license points at)."""

    id: str
    name: str
    url: str

    def as_json(self) -> dict[str, Any]:
        """The licence as the JSON files name it."""
        return {"id": self.id, "name": self.name, "url": self.url}


LICENCES: dict[str, Licence] = {
    "CC0-1.0": Licence(
        "CC0-1.0",
        "Creative Commons Zero 1.0 Universal (publiek domein)",
        "http://creativecommons.org/publicdomain/zero/1.0/",
    ),
    "CC-BY-4.0": Licence(
        "CC-BY-4.0",
        "Creative Commons Naamsvermelding 4.0 Internationaal",
        "http://creativecommons.org/licenses/by/4.0/",
    ),
}
DEFAULT_LICENCE: LicenceId = "CC0-1.0"


def licence(licence_id: str) -> Licence:
    """The licence with this SPDX id; KeyError for one the platform does not offer."""
    return LICENCES[licence_id]
