"""The personal-data heuristic that guards free text marked for publication."""

from __future__ import annotations

import pytest

from bibmon_demo.data import _REMARKS
from bibmon_reporting.opendata.pii import FIRST_NAMES, findings, must_withhold


@pytest.mark.parametrize(
    "text",
    [
        "Neem contact op met j.devries@bibliotheek-west.nl voor de cijfers.",
        "Vragen? Mail info (at) bieb . nl",
        "mail naar bieb[at]voorbeeld[dot]nl",
    ],
)
def test_email_addresses_are_found(text: str) -> None:
    assert "email" in findings(text)


@pytest.mark.parametrize(
    "text",
    [
        "Bel 06-12345678 voor toelichting.",
        "Telefoon 020 123 4567",
        "Ons nummer is +31 6 1234 5678.",
        "0031201234567",
        "tel: (010) 412 34 56",
        "0612345678",
        "Klantenservice 0800-1234",
    ],
)
def test_dutch_phone_numbers_are_found(text: str) -> None:
    assert "phone" in findings(text)


@pytest.mark.parametrize(
    "text",
    [
        "Gesproken met Jan de Vries over de bezoekcijfers.",
        "Cijfers aangeleverd door dhr. Jansen.",
        "Mevrouw de Boer heeft de telling gedaan.",
        "J. de Vries heeft geteld.",
        "A.B. Bakker, hoofd collectie",
        "Overleg met Sanne over de cijfers.",
        "Sanne zegt dat het klopt.",
        "Fatima El Amrani leidde het project.",
        "Roos Jansen telde de bezoekers.",
        "De telling klopt. Piet heeft het nagekeken.",
        "Jan-Willem Bakker telde mee.",
        "Overleg met Anne-Marie over de cijfers.",
    ],
)
def test_person_names_are_found(text: str) -> None:
    assert "person_name" in findings(text)


@pytest.mark.parametrize(
    "text",
    [
        *_REMARKS,
        "In 2025 waren er 12.345 bezoeken en 1234567 uitleningen.",
        "De Bibliotheek Rotterdam telde meer bezoekers in Den Haag.",
        "Roos en tulpen sierden de leeszaal.",
        "Ben je benieuwd? Kom langs.",
        "N.B. De cijfers zijn voorlopig.",
        "Ca. 300 activiteiten met Stichting Lezen.",
        "Postcode 1234 AB, budget 1.234.567 euro.",
        "Vestigingen in Zuid-Holland en Noord-Brabant.",
    ],
)
def test_ordinary_library_remarks_are_kept(text: str) -> None:
    assert findings(text) == []
    assert not must_withhold(text)


def test_the_shipped_first_name_list_is_loaded() -> None:
    assert {"Jan", "Sanne", "Fatima", "Mohamed", "Daniëlle"} <= FIRST_NAMES
    assert all(name[0].isupper() for name in FIRST_NAMES)
