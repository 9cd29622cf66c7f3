"""Every Dutch text of the pages has an English translation; numbers and dates in Dutch."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from bibmon_web import answers, i18n, problems
from bibmon_web.messages_en import EN
from bibmon_web.routes.questionnaires import STATUS_LABELS

PACKAGE = Path(answers.__file__).parent


def _dutch_texts() -> set[str]:
    texts: set[str] = set()
    for template in (PACKAGE / "templates").glob("*.html"):
        if template.name.startswith("faq_"):  # one template per language
            continue
        source = template.read_text(encoding="utf-8")
        texts.update(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', source))
        texts.update(re.findall(r"_\(\s*'((?:[^'\\]|\\.)*)'", source))
    for module in PACKAGE.rglob("*.py"):
        source = module.read_text(encoding="utf-8")
        texts.update(re.findall(r'_t\(\s*request,\s*"((?:[^"\\]|\\.)*)"', source))
        texts.update(re.findall(r'Invalid\("((?:[^"\\]|\\.)*)"\)', source))
    texts.update(STATUS_LABELS.values())
    texts.update(problems.MESSAGES.values())
    return texts


def test_every_dutch_text_has_an_english_translation() -> None:
    texts = _dutch_texts()
    assert len(texts) > 100
    missing = sorted(t for t in texts if t not in EN)
    assert missing == []


def test_placeholders_are_the_same_in_both_languages() -> None:
    for dutch, english in EN.items():
        assert set(re.findall(r"{(\w+)}", dutch)) == set(re.findall(r"{(\w+)}", english)), dutch


def test_numbers_and_dates_are_written_the_dutch_way() -> None:
    assert i18n.format_number("nl", 1234567.5) == "1.234.567,5"
    assert i18n.format_number("en", 1234567.5) == "1,234,567.5"
    moment = datetime(2027, 1, 28, 19, 0, tzinfo=UTC)
    assert i18n.format_datetime("nl", moment) == "28 januari 2027 om 20:00"
    assert i18n.format_date("en", moment.isoformat()) == "January 28, 2027"
