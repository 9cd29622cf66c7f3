"""Library staff: the organisation's questionnaires, filling one in, submitting, receipt."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from bibmon_common.questionnaire import (
    NUMERIC_TYPES,
    Question,
    Questionnaire,
    visible_questions,
)
from bibmon_web import i18n
from bibmon_web.answers import (
    ANSWER_PREFIX,
    SHOWN_FIELD,
    changes,
    encode,
    original_text,
)
from bibmon_web.client import Api, ApiError
from bibmon_web.pages import form_of, is_htmx, language, redirect, render
from bibmon_web.problems import message_for

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {
    "not_started": "Niet begonnen",
    "draft": "Concept",
    "submitted": "Ingediend",
    "accepted": "Geaccepteerd",
    "returned": "Teruggestuurd",
    "reopened": "Heropend",
}
LEGAL_BASIS = {"wsob": "Wsob", "subsidy": "subsidieregeling"}


# -- loading -----------------------------------------------------------------------------
async def _contact(api: Api, survey_id: str, organisation_id: str) -> dict[str, Any] | None:
    try:
        contact: dict[str, Any] = await api.get(
            "identity", f"/surveys/{survey_id}/contacts/{organisation_id}"
        )
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    return contact


async def _response_status(api: Api, survey_id: str) -> str:
    try:
        response = await api.get("responses", f"/surveys/{survey_id}/response")
    except ApiError as exc:
        if exc.status in (403, 404):
            return "not_started"
        raise
    return str(response["status"])


async def open_questionnaires(api: Api, me: dict[str, Any]) -> list[dict[str, Any]]:
    """The organisation's surveys that are open now, with status and contact person."""
    page = await api.get("surveys", "/surveys", params={"limit": 100})
    surveys = [s for s in page["items"] if s["status"] == "open"]
    org = str(me["organisation_id"])
    statuses = await asyncio.gather(*(_response_status(api, s["id"]) for s in surveys))
    contacts = await asyncio.gather(*(_contact(api, s["id"], org) for s in surveys))
    return [
        {"survey": s, "status": st, "contact": c}
        for s, st, c in zip(surveys, statuses, contacts, strict=True)
    ]


@dataclass
class Loaded:
    survey: dict[str, Any]
    response: dict[str, Any]
    questionnaire: Questionnaire


async def load(api: Api, survey_id: UUID) -> Loaded:
    """The survey, this organisation's response and the questionnaire version it answers."""
    survey, response = await asyncio.gather(
        api.get("surveys", f"/surveys/{survey_id}"),
        api.get("responses", f"/surveys/{survey_id}/response"),
    )
    raw = survey.get("questionnaire")
    if response.get("questionnaire_version") != survey.get("questionnaire_version") or not raw:
        frozen = await api.get(
            "surveys",
            f"/surveys/{survey_id}/questionnaire",
            params={"version": response["questionnaire_version"]},
        )
        raw = frozen["questionnaire"]
    return Loaded(survey, response, Questionnaire.model_validate(raw))


# -- presenting --------------------------------------------------------------------------
def display(lang: str, question: Question, value: Any) -> str:
    """An answer as a person reads it (Dutch numbers, option labels, Ja/Nee)."""
    if value is None or value == [] or value == "":
        return ""
    if question.type in NUMERIC_TYPES and isinstance(value, int | float):
        text = i18n.format_number(lang, value)
        if question.type == "amount":
            return f"€ {text}"
        if question.type == "percentage":
            return f"{text}%"
        return f"{text} {question.unit}".strip()
    if question.type == "yes_no":
        return i18n.translate(lang, "Ja" if value else "Nee")
    labels = {o.value: o.label for o in question.options}
    if question.type == "multiple_choice" and isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    if question.type == "single_choice":
        return labels.get(str(value), str(value))
    if question.type == "date":
        try:
            return i18n.format_date(lang, date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    return str(value)


@dataclass
class SaveResult:
    """What a save did: the response now, and per question what went wrong."""

    response: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, str | list[str]] = field(default_factory=dict)
    saved: set[str] = field(default_factory=set)
    closed: str = ""


def question_views(
    lang: str,
    loaded: Loaded,
    result: SaveResult | None = None,
    synced: set[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Everything a question block shows, by question key."""
    response = loaded.response
    answers = response["answers"]
    visible = visible_questions(loaded.questionnaire, answers)
    warnings = {w["question"]: w for w in response.get("warnings", [])}
    previous = response.get("previous_answers") or {}
    views: dict[str, dict[str, Any]] = {}
    for question in loaded.questionnaire.questions():
        key = question.key
        value: str | list[str] = encode(question, answers.get(key))
        error = ""
        conflict = None
        if result is not None:
            if key in result.errors:
                error = result.errors[key]
                value = result.raw.get(key, value)
            if key in result.conflicts:
                c = result.conflicts[key]
                mine = result.raw.get(key, "")
                conflict = {
                    "theirs": display(lang, question, c.get("current_value")) or "—",
                    "mine": (", ".join(mine) if isinstance(mine, list) else mine) or "—",
                    "at": c.get("changed_at"),
                }
        warning = warnings.get(key)
        views[key] = {
            "q": question,
            "key": key,
            "visible": key in visible,
            "value": value,
            "original": original_text(question, answers.get(key)),
            "error": error,
            "conflict": conflict,
            "previous": display(lang, question, previous.get(key)),
            "warning": (warning.get("message_en") if lang == "en" else warning.get("message"))
            if warning
            else "",
            "synced": bool(synced and key in synced),
            "name": ANSWER_PREFIX + key,
        }
    return views


def _summary(lang: str, loaded: Loaded) -> list[dict[str, Any]]:
    answers = loaded.response["answers"]
    visible = visible_questions(loaded.questionnaire, answers)
    sections = []
    for section in loaded.questionnaire.sections:
        rows = [
            {"q": q, "answer": display(lang, q, answers.get(q.key))}
            for q in section.questions
            if q.key in visible
        ]
        sections.append({"section": section, "rows": rows})
    return sections


def _survey_facts(survey: dict[str, Any]) -> dict[str, Any]:
    basis = survey.get("legal_basis")
    return {
        "basis": LEGAL_BASIS.get(basis, "") if basis else "",
        "basis_name": survey.get("legal_basis_name") or "",
    }


# -- pages -------------------------------------------------------------------------------
@router.get("/vragenlijsten")
async def questionnaires(request: Request) -> Response:
    api = Api(request)
    me = await api.me()
    items = await open_questionnaires(api, me) if me.get("organisation_id") else []
    return render(
        request,
        "questionnaires.html",
        me=me,
        surveys=items,
        status_labels=STATUS_LABELS,
        facts=_survey_facts,
    )


def _page(
    request: Request,
    loaded: Loaded,
    me: dict[str, Any],
    contact: dict[str, Any] | None,
    result: SaveResult | None = None,
    status_code: int = 200,
    saved_notice: bool = False,
) -> Response:
    lang = language(request)
    views = question_views(lang, loaded, result)
    return render(
        request,
        "questionnaire.html",
        status_code,
        me=me,
        survey=loaded.survey,
        response=loaded.response,
        questionnaire=loaded.questionnaire,
        views=views,
        result=result,
        contact=contact,
        status_labels=STATUS_LABELS,
        facts=_survey_facts(loaded.survey),
        saved_notice=saved_notice,
    )


@router.get("/vragenlijsten/{survey_id}")
async def questionnaire(request: Request, survey_id: UUID, opgeslagen: str = "") -> Response:
    api = Api(request)
    me = await api.me()
    loaded = await load(api, survey_id)
    contact = await _contact(api, str(survey_id), str(me["organisation_id"]))
    return _page(request, loaded, me, contact, saved_notice=bool(opgeslagen))


async def save(api: Api, lang: str, loaded: Loaded, survey_id: UUID, form: FormData) -> SaveResult:
    """Send the changed answers; keep what the API refused (422, 409) beside its question."""
    found = changes(loaded.questionnaire, form)
    version_text = form.get("version")
    version = (
        int(version_text)
        if isinstance(version_text, str) and version_text.isdigit()
        else int(loaded.response["version"])
    )
    result = SaveResult(loaded.response, raw=found.raw)
    result.errors = {k: i18n.translate(lang, m) for k, m in found.invalid.items()}
    to_send = dict(found.answers)
    # A refused save writes nothing; the rest is sent again without the refused questions.
    for _attempt in range(3):
        if not to_send:
            break
        try:
            result.response = await api.call(
                "PUT",
                "responses",
                f"/surveys/{survey_id}/response",
                json={"answers": to_send, "version": version},
            )
        except ApiError as exc:
            refused: set[str] = set()
            if exc.status == 422:
                for error in exc.errors:
                    key = str(error.get("question") or "").strip() or str(
                        error.get("field", "")
                    ).removeprefix("answers.")
                    if key in to_send:
                        result.errors.setdefault(key, message_for(lang, error))
                        refused.add(key)
            elif exc.status == 409 and exc.body.get("conflicts"):
                for conflict in exc.body["conflicts"]:
                    key = str(conflict.get("question"))
                    if key in to_send:
                        result.conflicts[key] = conflict
                        refused.add(key)
            elif exc.status == 409:
                result.closed = exc.detail
                break
            if not refused:
                raise
            for key in refused:
                to_send.pop(key, None)
        else:
            result.saved = set(to_send)
            break
    if not result.saved:
        result.response = await api.get("responses", f"/surveys/{survey_id}/response")
    return result


@router.post("/vragenlijsten/{survey_id}")
async def save_page(request: Request, survey_id: UUID) -> Response:
    form = await form_of(request)
    api = Api(request)
    lang = language(request)
    me = await api.me()
    loaded = await load(api, survey_id)
    result = await save(api, lang, loaded, survey_id, form)
    loaded.response = result.response
    action = form.get("actie")
    problems = bool(result.errors or result.conflicts or result.closed)
    if is_htmx(request):
        return _partial(request, loaded, form, result)
    if not problems:
        if action == "indienen":
            return redirect(request, f"/vragenlijsten/{survey_id}/indienen")
        return redirect(request, f"/vragenlijsten/{survey_id}?opgeslagen=1")
    contact = await _contact(api, str(survey_id), str(me["organisation_id"]))
    return _page(request, loaded, me, contact, result, 409 if result.conflicts else 422)


def _partial(request: Request, loaded: Loaded, form: FormData, result: SaveResult) -> Response:
    """htmx: the save status, plus out-of-band the parts of the form that changed."""
    lang = language(request)
    shown_before = {str(k) for k in form.getlist(SHOWN_FIELD)}
    answers = loaded.response["answers"]
    visible_now = visible_questions(loaded.questionnaire, answers)
    synced: set[str] = set()
    for question in loaded.questionnaire.questions():
        key = question.key
        if key in shown_before and key in visible_now and key not in result.raw:
            sent = form.get(f"o.{key}")
            if isinstance(sent, str) and sent != original_text(question, answers.get(key)):
                synced.add(key)  # a colleague changed it meanwhile
    views = question_views(lang, loaded, result, synced)
    blocks = [
        views[k]
        for k in views
        if (k in shown_before) != (k in visible_now) or k in result.conflicts or k in synced
    ]
    small = [views[k] for k in views if k in result.raw and views[k] not in blocks]
    return render(
        request,
        "questionnaire_saved.html",
        survey=loaded.survey,
        response=loaded.response,
        result=result,
        blocks=blocks,
        small=small,
        views=views,
    )


@router.post("/vragenlijsten/{survey_id}/contactpersoon")
async def become_contact(request: Request, survey_id: UUID) -> Response:
    await form_of(request)
    api = Api(request)
    me = await api.me()
    await api.call(
        "PUT",
        "identity",
        f"/surveys/{survey_id}/contacts/{me['organisation_id']}",
        json={"user_id": me["id"]},
    )
    return redirect(request, f"/vragenlijsten/{survey_id}?contactpersoon=1")


# -- submitting --------------------------------------------------------------------------
@router.get("/vragenlijsten/{survey_id}/indienen")
async def submit_page(request: Request, survey_id: UUID) -> Response:
    api = Api(request)
    await api.me()
    loaded = await load(api, survey_id)
    return _submit_view(request, loaded, {}, [], {})


def _submit_view(
    request: Request,
    loaded: Loaded,
    errors: dict[str, str],
    missing: list[dict[str, Any]],
    typed: dict[str, str],
    status_code: int = 200,
) -> Response:
    lang = language(request)
    by_key = loaded.questionnaire.by_key()
    warnings = [
        {
            "q": by_key[w["question"]],
            "message": w.get("message_en") if lang == "en" else w.get("message"),
            "explanation": typed.get(
                w["question"], loaded.response["explanations"].get(w["question"], "")
            ),
            "error": errors.get(w["question"], ""),
        }
        for w in loaded.response.get("warnings", [])
        if w["question"] in by_key
    ]
    return render(
        request,
        "submit.html",
        status_code,
        survey=loaded.survey,
        response=loaded.response,
        summary=_summary(lang, loaded),
        warnings=warnings,
        missing=missing,
    )


@router.post("/vragenlijsten/{survey_id}/indienen")
async def submit(request: Request, survey_id: UUID) -> Response:
    form = await form_of(request)
    api = Api(request)
    lang = language(request)
    loaded = await load(api, survey_id)
    typed = {
        str(k).removeprefix("uitleg."): str(v).strip()
        for k, v in form.multi_items()
        if str(k).startswith("uitleg.") and isinstance(v, str)
    }
    explanations = {k: v for k, v in typed.items() if k in loaded.questionnaire.by_key()}
    try:
        await api.call(
            "POST",
            "responses",
            f"/surveys/{survey_id}/response/submit",
            json={"explanations": explanations},
        )
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        by_key = loaded.questionnaire.by_key()
        errors: dict[str, str] = {}
        missing: list[dict[str, Any]] = []
        for error in exc.errors:
            key = str(error.get("question") or "")
            message = message_for(lang, error)
            if str(error.get("field", "")).startswith("explanations."):
                errors[key] = message
            elif key in by_key:
                missing.append({"q": by_key[key], "message": message})
        if not errors and not missing:
            missing.append({"q": None, "message": exc.detail})
        loaded.response = await api.get("responses", f"/surveys/{survey_id}/response")
        return _submit_view(request, loaded, errors, missing, typed, 422)
    return redirect(request, f"/vragenlijsten/{survey_id}/ontvangstbewijs")


@router.get("/vragenlijsten/{survey_id}/ontvangstbewijs")
async def receipt(request: Request, survey_id: UUID) -> Response:
    api = Api(request)
    me = await api.me()
    loaded = await load(api, survey_id)
    return render(
        request,
        "receipt.html",
        me=me,
        survey=loaded.survey,
        response=loaded.response,
        summary=_summary(language(request), loaded),
    )
