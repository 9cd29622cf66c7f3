"""Withhold free text that looks like it names or reaches a person.

A free-text question the questionnaire marks `public` still goes through `findings()`
before its answer enters an open dataset; any finding withholds the whole answer (a
partial redaction could leave the rest of a sentence identifying someone). The checks
are heuristics, tuned to withhold too much rather than too little:

- e-mail: `local@domain.tld`, also written as `[at]`, `(at)` or ` at `;
- phone: whatever libphonenumber (phonenumberslite) finds as a possible number in the
  text when read as Dutch (06-12345678, 020 123 4567, +31 6 1234 5678, 0031…, 0800-1234);
- person's name, by three patterns: a title or form of address followed by a
  capitalised word ("dhr. Jansen", "mevrouw De Boer"); initials followed by a surname
  ("J. de Vries", "A.B. Bakker"; not "N.B." and other capital abbreviations); any
  capitalised occurrence of a common first name from the shipped list `FIRST_NAMES`
  ("Jan de Vries", "overleg met Sanne", "Sanne zegt"), except that the few names that
  are also Dutch words ("Roos", "Ben", "Wil") count at the start of a sentence only
  when a surname follows.

What it misses: a surname alone ("Jansen heeft …"), a first name not on the list or
written in lower case, a phone number written in words. What it withholds needlessly:
text naming a street or building after a person ("Willem de Zwijgerlaan"). So the
default for free text stays `never`, and `public` is a choice the questionnaire's author
makes for questions that do not ask about people.
"""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Literal

import phonenumbers

Finding = Literal["email", "phone", "person_name"]

_EMAIL = re.compile(
    r"[A-Za-z0-9._%+\-]+\s*(?:@|\[at\]|\(at\)|\s at\s)\s*[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*"
    r"\s*(?:\.|\[dot\]|\(dot\))\s*[A-Za-z]{2,}",
    re.IGNORECASE,
)

FIRST_NAMES: frozenset[str] = frozenset(
    line.strip()
    for line in (files("bibmon_reporting.opendata") / "first_names.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
)

# Cheap pre-checks: an e-mail address needs an at-sign (or a spelled-out one), a Dutch
# phone number at least seven digits with little between them.
_AT_HINT = re.compile(r"@|\[at\]|\(at\)|\sat\s", re.IGNORECASE)
_DIGITS_HINT = re.compile(r"\d(?:\D{0,3}\d){6}")

# Tussenvoegsels: the lowercase particles between a first name and a Dutch surname.
_PARTICLE = r"(?:van|de|der|den|het|ter|ten|te|in|op|'t|el|al|la|le|du|da|von)"
_SURNAME = r"[A-Z][a-zà-ÿ'\-]+(?:-[A-Z][a-zà-ÿ'\-]+)?"
_TITLE = re.compile(
    r"(?:\b(?:dhr|mevr|mw|mr|dr|drs|ir|ing|prof)\.?|\b(?:de heer|meneer|mevrouw|juffrouw))"
    rf"\s+(?:(?:[A-Z]\.)+\s*)?(?:{_PARTICLE}\s+)*{_SURNAME}",
    re.IGNORECASE,
)
_INITIALS = re.compile(rf"\b((?:[A-Z]\.\s?){{1,4}})\s*(?:{_PARTICLE}\s+)*{_SURNAME}")
# Capital abbreviations that look like initials.
_ABBREVIATIONS = frozenset({"N.B.", "P.S.", "B.V.", "N.V.", "C.V.", "V.O.F.", "E.O."})
# First names that are also Dutch words, so may start a sentence without naming anyone.
_ALSO_WORDS = frozenset(
    {"Ben", "Bas", "Els", "Fleur", "Floor", "Iris", "Jet", "Lieve", "Max", "Roos", "Ton", "Wil"}
)
_TITLE_WORDS = frozenset(
    {"dhr", "mevr", "mw", "mr", "dr", "drs", "ir", "ing", "prof", "heer", "meneer", "mevrouw"}
    | {"juffrouw"}
)
_LOWER_WORD = re.compile(r"[a-z]+")
# Hyphens split words, so "Jan-Willem" yields two first names to look up.
_CAPITALISED_WORD = re.compile(r"[A-ZÀ-Þ][A-Za-zÀ-ÿ']*")
_WORD = re.compile(r"[A-Za-zÀ-ÿ'][A-Za-zÀ-ÿ']*")
_SENTENCE_END = re.compile(r"(?:[.!?:;]|\n)\s*$")


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and word[1:2].islower()


def _names_a_person(text: str) -> bool:
    # Cheap pre-checks first: most library remarks hold no title and no first name.
    lowered_words = set(_LOWER_WORD.findall(text.lower()))
    capitalised = _CAPITALISED_WORD.findall(text)
    if (
        lowered_words.isdisjoint(_TITLE_WORDS)
        and FIRST_NAMES.isdisjoint(capitalised)
        and not _INITIALS.search(text)
    ):
        return False
    # The title pattern is case-insensitive for the title only: the surname must still
    # start with a capital, which the regex cannot express case-insensitively.
    for match in _TITLE.finditer(text):
        if any(_capitalised(w) for w in match.group(0).split()[1:]):
            return True
    for match in _INITIALS.finditer(text):
        if match.group(1).replace(" ", "") not in _ABBREVIATIONS:
            return True
    for match in _WORD.finditer(text):
        word = match.group(0)
        if word not in FIRST_NAMES:
            continue
        before = text[: match.start()]
        at_sentence_start = not before.strip() or bool(_SENTENCE_END.search(before))
        # At the start of a sentence a capital says nothing: a name that is also a
        # word ("Roos en tulpen", "Ben je …") counts only when a surname follows.
        if not at_sentence_start or word not in _ALSO_WORDS:
            return True
        rest = text[match.end() :]
        if re.match(rf"\s+(?:{_PARTICLE}\s+)*{_SURNAME}", rest):
            return True
    return False


def findings(text: str) -> list[Finding]:
    """What in `text` looks like personal data: e-mail, phone number, a person's name."""
    found: list[Finding] = []
    if _AT_HINT.search(text) and _EMAIL.search(text):
        found.append("email")
    if _DIGITS_HINT.search(text) and any(True for _ in phonenumbers.PhoneNumberMatcher(text, "NL")):
        found.append("phone")
    if _names_a_person(text):
        found.append("person_name")
    return found


def must_withhold(text: str) -> bool:
    """True when a free-text answer may not be published."""
    return bool(findings(text))
