"""Numbers, dates and texts of the renderers in Dutch (default) or English.

Every figure a reader sees is formatted here with babel, so the infographic, the report
and the text alternative agree on "1.234,5" and never show a raw float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent

from bibmon_common.organisations import size_class_group_name
from bibmon_reporting.report_model import GroupKind, NumericGroup

Locale = Literal["nl", "en"]
LOCALES: tuple[Locale, ...] = ("nl", "en")
BABEL_LOCALES: dict[str, str] = {"nl": "nl_NL", "en": "en_GB"}
# Dutch public libraries are in one time zone; a report shows local time.
DISPLAY_TZ = ZoneInfo("Europe/Amsterdam")
# Units the questionnaire may give that read better before the number.
_PREFIX_UNITS = frozenset({"€", "EUR", "euro"})


def check_locale(locale: str) -> Locale:
    """The locale if the renderers know it; ValueError otherwise."""
    if locale == "nl":
        return "nl"
    if locale == "en":
        return "en"
    raise ValueError(f"unknown locale {locale!r}; expected one of {LOCALES}")


def number(value: float, locale: Locale) -> str:
    """A figure with thousands separators and as many decimals as its size deserves."""
    magnitude = abs(value)
    if magnitude >= 1000:
        pattern = "#,##0"
    elif magnitude >= 10:
        pattern = "#,##0.#"
    else:
        pattern = "#,##0.##"
    return format_decimal(value, format=pattern, locale=BABEL_LOCALES[locale])


def with_unit(value: float, unit: str, locale: Locale) -> str:
    """A figure with the question's unit ("€ 1.234", "1.234 uur")."""
    text = number(value, locale)
    if not unit:
        return text
    if unit in _PREFIX_UNITS:
        return f"€ {text}"
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}"


def inline_unit(unit: str) -> str:
    """The unit if it is short enough to repeat with every figure (€, %), else ""."""
    return unit if unit in _PREFIX_UNITS or unit == "%" else ""


def unit_label(unit: str) -> str:
    """The unit as a table caption names it ("€" for "EUR")."""
    return "€" if unit in _PREFIX_UNITS else unit


def percent(value: float, locale: Locale) -> str:
    """A share given in percent (0-100), e.g. "12,5%"."""
    return format_percent(value / 100, format="#,##0.#%", locale=BABEL_LOCALES[locale])


def count(value: int, locale: Locale) -> str:
    """A whole number such as n, with thousands separators."""
    return format_decimal(value, format="#,##0", locale=BABEL_LOCALES[locale])


def long_date(moment: datetime, locale: Locale) -> str:
    """The local date written out ("29 november 2026")."""
    return format_date(_local(moment).date(), format="long", locale=BABEL_LOCALES[locale])


def date_time(moment: datetime, locale: Locale) -> str:
    """The local date and time ("29 november 2026, 20:30")."""
    local = _local(moment)
    time = format_time(local.time(), format="HH:mm", locale=BABEL_LOCALES[locale])
    return f"{long_date(moment, locale)}, {time}"


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(DISPLAY_TZ)


@dataclass(frozen=True)
class Texts:
    """The fixed texts of infographic and report in one locale."""

    too_few: str
    no_answer: str
    own: str
    median: str
    mean: str
    group_kind: dict[str, str]
    national_label: str
    per_inhabitant: str
    per_inhabitant_total: str
    infographic_heading: str
    infographic_legend: str
    infographic_source: str
    text_alt_intro: str
    text_alt_own: str
    text_alt_group: str
    share: str
    choice_share_subtitle: str
    report_title: str
    summary: str
    summary_intro: str
    key_figures_none: str
    section_chart_caption: str
    choice_chart_caption: str
    table_caption: str
    choice_table_caption: str
    col_group: str
    col_n: str
    col_own: str
    col_median: str
    col_mean: str
    col_q1_q3: str
    col_min_max: str
    col_rank: str
    col_option: str
    own_answer: str
    yes: str
    no: str
    method_heading: str
    method_counted: str
    method_min_group: str
    method_quartiles: str
    method_per_inhabitant: str
    method_rank: str
    method_computed: str
    organisation_details: str
    province: str
    size_class: str
    inhabitants: str
    survey: str
    computed_at: str
    counted: str
    contents: str
    rank_axis: str
    share_axis: str
    generated_by: str


TEXTS: dict[str, Texts] = {
    "nl": Texts(
        too_few="te weinig deelnemers",
        no_answer="niet ingevuld",
        own="Uw bibliotheek",
        median="mediaan",
        mean="gemiddelde",
        group_kind={
            "national": "Nederland",
            "province": "Provincie",
            "size_class": "Grootteklasse",
        },
        national_label="Nederland",
        per_inhabitant="per 1.000 inwoners",
        per_inhabitant_total="per 1.000 inwoners · uw totaal: {total}",
        infographic_heading="{survey}",
        infographic_legend=(
            "Uw waarde naast de mediaan van alle deelnemende bibliotheken in Nederland, "
            "in uw provincie en in uw grootteklasse."
        ),
        infographic_source="Bron: Bibliotheekmonitor (KB) · berekend op {date}",
        text_alt_intro="Infographic van {organisation} voor {survey}.",
        text_alt_own="{label}: uw bibliotheek {value}",
        text_alt_group="{measure} {group} {value} (n = {n})",
        share="aandeel",
        choice_share_subtitle="aandeel met antwoord ‘{answer}’",
        report_title="Rapportage {survey}",
        summary="Samenvatting",
        summary_intro=(
            "Deze rapportage vergelijkt de antwoorden van {organisation} met die van "
            "{counted} deelnemende bibliotheken: in heel Nederland, in de provincie "
            "{province} en in de grootteklasse {size_class}."
        ),
        key_figures_none="Voor deze vragenlijst zijn geen kerncijfers aangewezen.",
        section_chart_caption=(
            "Uw positie per vraag: het percentage bibliotheken in elke groep met een lagere "
            "waarde dan de uwe (percentielrang)."
        ),
        choice_chart_caption="Verdeling van de antwoorden per groep.",
        table_caption="Uw waarde naast de drie vergelijkingsgroepen",
        choice_table_caption="Verdeling van de antwoorden (percentage van n)",
        col_group="Groep",
        col_n="n",
        col_own="Uw waarde",
        col_median="Mediaan",
        col_mean="Gemiddelde",
        col_q1_q3="Q1 – Q3",
        col_min_max="Min – max",
        col_rank="Percentiel\u00adrang",  # may break at the soft hyphen in a narrow column
        col_option="Antwoord",
        own_answer="Uw antwoord",
        yes="Ja",
        no="Nee",
        method_heading="Verantwoording",
        method_counted=(
            "Meegeteld zijn alle ingediende antwoorden die niet zijn teruggezet voor "
            "correctie; na een correctie telt de laatst ingediende versie. Nationaal telden "
            "{counted} bibliotheken mee."
        ),
        method_min_group=(
            "Een groep met minder dan {min} bibliotheken die de vraag beantwoordden toont "
            "geen cijfers maar “te weinig deelnemers”, zodat geen bibliotheek herkenbaar is."
        ),
        method_quartiles=(
            "Mediaan en kwartielen (Q1, Q3) zijn berekend met lineaire interpolatie tussen "
            "de gesorteerde waarden; n is het aantal bibliotheken in de groep dat de vraag "
            "beantwoordde."
        ),
        method_per_inhabitant=(
            "Waar de vragenlijst daarom vraagt staan de cijfers ook per 1.000 inwoners van "
            "het werkgebied (waarde ÷ inwoners × 1.000), zodat grote en kleine bibliotheken "
            "eerlijk te vergelijken zijn."
        ),
        method_rank=(
            "De percentielrang is het percentage bibliotheken in de groep met een lagere "
            "waarde; gelijke waarden tellen voor de helft."
        ),
        method_computed="De cijfers zijn berekend op {date}.",
        organisation_details="Gegevens",
        province="Provincie",
        size_class="Grootteklasse",
        inhabitants="Inwoners werkgebied",
        survey="Vragenlijst",
        computed_at="Berekend op",
        counted="Deelnemers (nationaal)",
        contents="Inhoud",
        rank_axis="Percentielrang (0–100)",
        share_axis="Aandeel van de antwoorden",
        generated_by="Bibliotheekmonitor · Koninklijke Bibliotheek",
    ),
    "en": Texts(
        too_few="too few participants",
        no_answer="not answered",
        own="Your library",
        median="median",
        mean="mean",
        group_kind={"national": "Netherlands", "province": "Province", "size_class": "Size class"},
        national_label="Netherlands",
        per_inhabitant="per 1,000 inhabitants",
        per_inhabitant_total="per 1,000 inhabitants · your total: {total}",
        infographic_heading="{survey}",
        infographic_legend=(
            "Your value next to the median of all participating libraries in the "
            "Netherlands, in your province and in your size class."
        ),
        infographic_source="Source: Bibliotheekmonitor (KB) · computed on {date}",
        text_alt_intro="Infographic of {organisation} for {survey}.",
        text_alt_own="{label}: your library {value}",
        text_alt_group="{measure} {group} {value} (n = {n})",
        share="share",
        choice_share_subtitle="share answering ‘{answer}’",
        report_title="Report {survey}",
        summary="Summary",
        summary_intro=(
            "This report compares the answers of {organisation} with those of {counted} "
            "participating libraries: in the whole of the Netherlands, in the province of "
            "{province} and in the size class {size_class}."
        ),
        key_figures_none="This questionnaire names no key figures.",
        section_chart_caption=(
            "Your position per question: the percentage of libraries in each group with a "
            "lower value than yours (percentile rank)."
        ),
        choice_chart_caption="Distribution of the answers per group.",
        table_caption="Your value next to the three comparison groups",
        choice_table_caption="Distribution of the answers (percentage of n)",
        col_group="Group",
        col_n="n",
        col_own="Your value",
        col_median="Median",
        col_mean="Mean",
        col_q1_q3="Q1 – Q3",
        col_min_max="Min – max",
        col_rank="Percentile rank",
        col_option="Answer",
        own_answer="Your answer",
        yes="Yes",
        no="No",
        method_heading="Method",
        method_counted=(
            "Counted are all submitted responses that were not returned for correction; "
            "after a correction the latest submitted version counts. Nationally {counted} "
            "libraries were counted."
        ),
        method_min_group=(
            "A group with fewer than {min} libraries that answered the question shows no "
            "figures but “too few participants”, so that no library can be recognised."
        ),
        method_quartiles=(
            "Median and quartiles (Q1, Q3) are computed by linear interpolation between the "
            "sorted values; n is the number of libraries in the group that answered."
        ),
        method_per_inhabitant=(
            "Where the questionnaire asks for it, figures are also given per 1,000 "
            "inhabitants of the service area (value ÷ inhabitants × 1,000), so that large "
            "and small libraries compare fairly."
        ),
        method_rank=(
            "The percentile rank is the percentage of libraries in the group with a lower "
            "value; ties count as half."
        ),
        method_computed="The figures were computed on {date}.",
        organisation_details="Details",
        province="Province",
        size_class="Size class",
        inhabitants="Inhabitants of service area",
        survey="Questionnaire",
        computed_at="Computed on",
        counted="Participants (national)",
        contents="Contents",
        rank_axis="Percentile rank (0–100)",
        share_axis="Share of answers",
        generated_by="Bibliotheekmonitor · National Library of the Netherlands (KB)",
    ),
}


def texts(locale: Locale) -> Texts:
    """The fixed texts of one locale."""
    return TEXTS[locale]


def group_label(kind: GroupKind, label: str, locale: Locale) -> str:
    """The group's name to show: "Nederland", the province, "Middelgrote bibliotheken"."""
    if kind == "national":
        return TEXTS[locale].national_label
    if kind == "size_class":
        known = size_class_group_name(label, locale)
        return known or f"{TEXTS[locale].size_class} {label}"
    return label


def group_label_in_sentence(kind: GroupKind, label: str, locale: Locale) -> str:
    """The group's name inside a sentence ("mediaan middelgrote bibliotheken")."""
    shown = group_label(kind, label, locale)
    if kind == "size_class" and size_class_group_name(label, locale):
        return shown[:1].lower() + shown[1:]
    return shown


def size_class_name(label: str, locale: Locale) -> str:
    """A size class's label in the locale ("middelgroot", "medium-sized")."""
    if locale == "en":
        known = size_class_group_name(label, "en")
        if known:
            return known.removesuffix(" libraries").lower()
    return label


def group_label_of(group: NumericGroup, locale: Locale) -> str:
    """The group's name to show."""
    return group_label(group.kind, group.label, locale)


def option_label(value: str, label: str, locale: Locale) -> str:
    """A choice's label; yes/no answers are translated."""
    if value == "true" and label.lower() in {"ja", "yes", "true", ""}:
        return TEXTS[locale].yes
    if value == "false" and label.lower() in {"nee", "no", "false", ""}:
        return TEXTS[locale].no
    return label
