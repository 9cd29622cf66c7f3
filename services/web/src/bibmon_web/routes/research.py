"""Researchers (and KB administrators, as the APIs allow): surveys, the questionnaire
builder, preview, publishing and closing, progress, review, and all reports.

Every change goes through the surveys and responses APIs with the person's own token;
the builder sends one change at a time (the whole questionnaire, changed in one place,
see bibmon_web.builder) and shows the API's field errors beside the fields.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from bibmon_common.organisations import PROVINCES, SizeClass
from bibmon_common.questionnaire import NUMERIC_TYPES, Questionnaire, visible_questions
from bibmon_web import builder, i18n
from bibmon_web.answers import Invalid as InvalidAnswer
from bibmon_web.answers import parse
from bibmon_web.client import Api, ApiError
from bibmon_web.pages import form_of, is_htmx, language, redirect, render, text
from bibmon_web.routes.public import organisations as all_organisations
from bibmon_web.routes.questionnaires import (
    STATUS_LABELS,
    Loaded,
    _survey_facts,
    display,
    question_views,
)

router = APIRouter(include_in_schema=False)

BASE = "/beheer/onderzoeken"
MANAGERS = ("researcher", "kb_admin")
SIZE_LABELS = {
    "small": "klein",
    "medium": "middelgroot",
    "large": "groot",
    "very_large": "zeer groot",
}


def _t(request: Request, text_: str, **values: Any) -> str:
    return i18n.translate(language(request), text_, **values)


async def _manager(api: Api) -> dict[str, Any]:
    """The logged-in researcher or KB administrator (others get the 'no access' page)."""
    me = await api.me()
    if not set(me.get("roles", [])) & set(MANAGERS):
        raise ApiError(403, {"detail": ""})
    return me


def _is_researcher(me: dict[str, Any]) -> bool:
    return "researcher" in me.get("roles", [])


def _status_code(request: Request, code: int) -> int:
    # htmx swaps only 2xx answers: a form with errors comes back as 200 to htmx.
    return 200 if is_htmx(request) else code


# -- the list ----------------------------------------------------------------------------
@router.get(BASE)
async def surveys(request: Request) -> Response:
    api = Api(request)
    me = await _manager(api)
    page = await api.get("surveys", "/surveys", params={"limit": 500})
    items = sorted(page["items"], key=lambda s: str(s["opens_at"]), reverse=True)
    return render(
        request,
        "research/surveys.html",
        me=me,
        surveys=items,
        survey_status=builder.SURVEY_STATUS,
    )


@router.get(f"{BASE}/nieuw")
async def new_survey_page(request: Request) -> Response:
    api = Api(request)
    me = await _manager(api)
    return _new_page(request, me, {}, {}, [])


def _new_page(
    request: Request,
    me: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str],
    summary: list[str],
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "research/survey_new.html",
        status_code,
        me=me,
        values=values,
        errors=errors,
        summary=summary,
    )


def _form_values(form: FormData) -> dict[str, Any]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


@router.post(BASE)
async def create_survey(request: Request) -> Response:
    form = await form_of(request)
    api = Api(request)
    me = await _manager(api)
    lang = language(request)
    parsed = builder.parse_survey_form(form, published=False)
    errors = {k: _t(request, v) for k, v in parsed.errors.items()}
    summary: list[str] = []
    if not errors:
        try:
            created = await api.call("POST", "surveys", "/surveys", json=parsed.body)
        except ApiError as exc:
            if exc.status != 422:
                raise
            errors, summary = builder.survey_errors(lang, exc.errors)
        else:
            return redirect(request, f"{BASE}/{created['id']}?klaar=aangemaakt")
    return _new_page(request, me, _form_values(form), errors, summary, _status_code(request, 422))


# -- the builder -------------------------------------------------------------------------
async def _survey(api: Api, survey_id: UUID) -> dict[str, Any]:
    survey: dict[str, Any] = await api.get("surveys", f"/surveys/{survey_id}")
    return survey


def _questionnaire(survey: dict[str, Any]) -> dict[str, Any]:
    return survey.get("questionnaire") or builder.empty()


async def _builder_page(
    request: Request,
    api: Api,
    survey: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    summary: list[str] | None = None,
    values: dict[str, Any] | None = None,
    notice: str = "",
    status_code: int = 200,
    focus: str = "",
) -> Response:
    me = await _manager(api)
    questionnaire = _questionnaire(survey)
    if is_htmx(request) and not focus:
        focus = "foutoverzicht" if (errors or summary) else "bouwer-status"
    # The register's libraries only where participants can still be chosen (a draft).
    organisations = await all_organisations(api) if survey["status"] == "draft" else []
    values = values or {}
    facts = {
        "title": survey["title"],
        "description": survey["description"],
        "mandatory": "ja" if survey["mandatory"] else "",
        "legal_basis": survey.get("legal_basis") or "",
        "legal_basis_name": survey.get("legal_basis_name") or "",
        "opens_at": builder.local_input(survey["opens_at"]),
        "closes_at": builder.local_input(survey["closes_at"]),
        "series_key": survey.get("series_key") or "",
    }
    if "title" in values:  # the facts form came back with errors: show what was typed
        facts = facts | {"mandatory": ""} | {k: v for k, v in values.items() if k in facts}
    by_key = {q["key"]: q for s in questionnaire["sections"] for q in s["questions"]}
    return render(
        request,
        "research/builder.html",
        _status_code(request, status_code),
        me=me,
        survey=survey,
        questionnaire=questionnaire,
        by_key=by_key,
        numeric=[q for q in by_key.values() if q["type"] in NUMERIC_TYPES],
        errors=errors or {},
        summary=summary or [],
        values=values,
        focus=focus if is_htmx(request) else "",
        facts=facts,
        notice=notice,
        survey_status=builder.SURVEY_STATUS,
        question_types=builder.QUESTION_TYPES,
        publication=builder.PUBLICATION,
        organisations=organisations,
        provinces=PROVINCES,
        size_classes=[(c.value, SIZE_LABELS[c.value]) for c in SizeClass],
        local_input=builder.local_input,
        condition_text=builder.condition_text,
        number_text=builder.number_text,
        published=survey["status"] != "draft",
    )


NOTICES = {
    "aangemaakt": "Het onderzoek is aangemaakt. Voeg nu onderdelen en vragen toe.",
    "opgeslagen": "De wijziging is opgeslagen.",
    "gepubliceerd": "Het onderzoek is gepubliceerd; de deelnemers krijgen een uitnodiging.",
    "gesloten": "Het onderzoek is gesloten.",
}


@router.get(f"{BASE}/{{survey_id}}")
async def builder_page(request: Request, survey_id: UUID, klaar: str = "") -> Response:
    api = Api(request)
    survey = await _survey(api, survey_id)
    notice = _t(request, NOTICES[klaar]) if klaar in NOTICES else ""
    return await _builder_page(request, api, survey, notice=notice)


STALE = (
    "Iemand anders heeft dit onderzoek intussen gewijzigd. Hieronder staat de nieuwe stand; "
    "voer uw wijziging opnieuw in."
)


class Stale(Exception):
    """The survey changed since the form was shown (another researcher, another tab)."""


async def _current(api: Api, survey_id: UUID, form: FormData) -> dict[str, Any]:
    """The survey now; Stale when it changed since the form was rendered."""
    survey = await _survey(api, survey_id)
    seen = text(form, "updated_at")
    if seen and seen != str(survey["updated_at"]):
        raise Stale
    return survey


async def _send(
    request: Request,
    api: Api,
    survey: dict[str, Any],
    body: dict[str, Any],
    *,
    anchor: str = "",
    on_error: str = "builder",
    question_key: str = "",
    values: dict[str, Any] | None = None,
) -> Response:
    """PATCH the survey; back to the builder, or the page again with the API's errors."""
    lang = language(request)
    try:
        await api.call("PATCH", "surveys", f"/surveys/{survey['id']}", json=body)
    except ApiError as exc:
        if exc.status == 409:
            return await _builder_page(
                request,
                api,
                survey,
                summary=[_t(request, "Dit onderzoek is gesloten en kan niet meer veranderen.")],
                status_code=409,
            )
        if exc.status != 422:
            raise
        if on_error == "question":
            fields, rest = builder.question_errors(
                lang, exc.errors, body.get("questionnaire") or builder.empty(), question_key
            )
            return await _question_page(
                request, api, survey, question_key, fields, rest, values or {}, 422
            )
        fields, rest = builder.survey_errors(lang, exc.errors)
        if on_error != "survey":
            # Questionnaire errors of a section or key-figure change: the summary says it.
            rest = list(fields.values()) + rest
            fields = {}
        return await _builder_page(
            request, api, survey, errors=fields, summary=rest, values=values, status_code=422
        )
    if is_htmx(request):
        # The builder in place (htmx takes #bouwer out of it), not a full navigation.
        fresh = await _survey(api, UUID(str(survey["id"])))
        return await _builder_page(
            request,
            api,
            fresh,
            notice=_t(request, NOTICES["opgeslagen"]),
            focus=anchor.lstrip("#"),
        )
    return redirect(request, f"{BASE}/{survey['id']}?klaar=opgeslagen{anchor}")


async def _editing(
    request: Request, survey_id: UUID
) -> tuple[FormData, Api, dict[str, Any] | None]:
    """A builder post's form, API client (a manager's only) and the survey now; the survey
    is None when it changed since the form was rendered (answer with `_stale`)."""
    form = await form_of(request)
    api = Api(request)
    await _manager(api)
    try:
        return form, api, await _current(api, survey_id, form)
    except Stale:
        return form, api, None


async def _stale(request: Request, api: Api, survey_id: UUID) -> Response:
    survey = await _survey(api, survey_id)
    return await _builder_page(
        request,
        api,
        survey,
        summary=[_t(request, STALE)],
        status_code=409,
    )


@router.post(f"{BASE}/{{survey_id}}/gegevens")
async def save_facts(request: Request, survey_id: UUID) -> Response:
    form, api, survey = await _editing(request, survey_id)
    if survey is None:
        return await _stale(request, api, survey_id)
    parsed = builder.parse_survey_form(form, published=survey["status"] != "draft")
    if parsed.errors:
        return await _builder_page(
            request,
            api,
            survey,
            errors={k: _t(request, v) for k, v in parsed.errors.items()},
            values=_form_values(form),
            status_code=422,
        )
    return await _send(
        request,
        api,
        survey,
        parsed.body,
        anchor="#gegevens",
        on_error="survey",
        values=_form_values(form),
    )


@router.post(f"{BASE}/{{survey_id}}/deelnemers")
async def save_participants(request: Request, survey_id: UUID) -> Response:
    form, api, survey = await _editing(request, survey_id)
    if survey is None:
        return await _stale(request, api, survey_id)
    parsed = builder.parse_participants_form(form)
    if parsed.errors:
        return await _builder_page(
            request,
            api,
            survey,
            errors={k: _t(request, v) for k, v in parsed.errors.items()},
            status_code=422,
        )
    return await _send(request, api, survey, parsed.body, anchor="#deelnemers", on_error="survey")


@router.post(f"{BASE}/{{survey_id}}/onderdelen")
async def add_section(request: Request, survey_id: UUID) -> Response:
    form, api, survey = await _editing(request, survey_id)
    if survey is None:
        return await _stale(request, api, survey_id)
    title = text(form, "section_title")
    key = text(form, "section_key") or builder.slug(title)
    errors: dict[str, str] = {}
    if not title:
        errors["section_title"] = _t(request, "Vul dit veld in.")
    if not builder.KEY_RE.match(key):
        errors["section_key"] = _t(request, builder.KEY_HELP)
    first = builder.parse_new_question(form, prefix="first_")
    errors |= {k: _t(request, v) for k, v in first.errors.items()}
    if not first.body["label"]:
        errors["first_label"] = _t(request, "Vul dit veld in.")
    if errors:
        return await _builder_page(
            request, api, survey, errors=errors, values=_form_values(form), status_code=422
        )
    questionnaire = builder.add_section(
        survey.get("questionnaire"),
        {"key": key, "title": title, "description": text(form, "section_description")},
        first.body,
    )
    try:
        await api.call(
            "PATCH", "surveys", f"/surveys/{survey_id}", json={"questionnaire": questionnaire}
        )
    except ApiError as exc:
        if exc.status != 422:
            raise
        fields, rest = builder.question_errors(
            language(request), exc.errors, questionnaire, first.body["key"]
        )
        return await _builder_page(
            request,
            api,
            survey,
            errors={f"first_{k}": v for k, v in fields.items()},
            summary=rest,
            values=_form_values(form),
            status_code=422,
        )
    if is_htmx(request):
        fresh = await _survey(api, survey_id)
        return await _builder_page(
            request,
            api,
            fresh,
            notice=_t(request, NOTICES["opgeslagen"]),
            focus=f"onderdeel-{key}",
        )
    return redirect(request, f"{BASE}/{survey_id}?klaar=opgeslagen#onderdeel-{key}")


@router.post(f"{BASE}/{{survey_id}}/onderdelen/{{section_key}}")
async def change_section(request: Request, survey_id: UUID, section_key: str) -> Response:
    form, api, survey = await _editing(request, survey_id)
    if survey is None:
        return await _stale(request, api, survey_id)
    action = text(form, "actie")
    questionnaire = _questionnaire(survey)
    anchor = f"#onderdeel-{section_key}"
    try:
        if action == "omhoog":
            changed = builder.move_section(questionnaire, section_key, -1)
        elif action == "omlaag":
            changed = builder.move_section(questionnaire, section_key, 1)
        elif action == "verwijderen":
            changed = builder.delete_section(questionnaire, section_key)
            anchor = "#vragenlijst"
        elif action == "vraag":
            new = builder.parse_new_question(form, prefix=f"{section_key}_")
            errors = {k: _t(request, v) for k, v in new.errors.items()}
            if not new.body["label"]:
                errors[f"{section_key}_label"] = _t(request, "Vul dit veld in.")
            if errors:
                return await _builder_page(
                    request, api, survey, errors=errors, values=_form_values(form), status_code=422
                )
            changed = builder.add_question(questionnaire, section_key, new.body)
            try:
                await api.call(
                    "PATCH", "surveys", f"/surveys/{survey_id}", json={"questionnaire": changed}
                )
            except ApiError as exc:
                if exc.status != 422:
                    raise
                fields, rest = builder.question_errors(
                    language(request), exc.errors, changed, new.body["key"]
                )
                errors = {f"{section_key}_{k}": v for k, v in fields.items()}
                return await _builder_page(
                    request,
                    api,
                    survey,
                    errors=errors,
                    summary=rest,
                    values=_form_values(form),
                    status_code=422,
                )
            # On to the new question's own settings (options, range, condition …).
            return redirect(request, f"{BASE}/{survey_id}/vragen/{new.body['key']}")
        else:
            changed = builder.update_section(
                questionnaire,
                section_key,
                text(form, "title"),
                text(form, "description"),
            )
    except builder.NotFound:
        return await _stale(request, api, survey_id)
    return await _send(
        request,
        api,
        survey,
        {"questionnaire": builder.without_empty_questionnaire(changed)},
        anchor=anchor,
    )


@router.post(f"{BASE}/{{survey_id}}/kerncijfers")
async def save_key_figures(request: Request, survey_id: UUID) -> Response:
    form, api, survey = await _editing(request, survey_id)
    if survey is None:
        return await _stale(request, api, survey_id)
    keys = [str(k) for k in form.getlist("key_figures")]
    if len(keys) > 6:
        return await _builder_page(
            request,
            api,
            survey,
            errors={"key_figures": _t(request, "Kies hoogstens zes kerncijfers.")},
            status_code=422,
        )
    changed = builder.set_key_figures(_questionnaire(survey), keys)
    return await _send(request, api, survey, {"questionnaire": changed}, anchor="#kerncijfers")


# -- one question ------------------------------------------------------------------------
async def _question_page(
    request: Request,
    api: Api,
    survey: dict[str, Any],
    key: str,
    errors: dict[str, str],
    summary: list[str],
    values: dict[str, Any],
    status_code: int = 200,
) -> Response:
    me = await _manager(api)
    questionnaire = _questionnaire(survey)
    try:
        i, j = builder.locate(questionnaire, key)
    except builder.NotFound:
        raise ApiError(404, {"detail": ""}) from None
    question = questionnaire["sections"][i]["questions"][j]
    earlier = builder.questions_before(questionnaire, key)
    parent = next(
        (
            q
            for q in earlier
            if question.get("show_if") and q["key"] == question["show_if"]["question"]
        ),
        None,
    )
    current = {
        "type": question["type"],
        "label": question["label"],
        "help": question.get("help", ""),
        "required": "ja" if question.get("required") else "",
        "min": builder.number_text(question.get("min")),
        "max": builder.number_text(question.get("max")),
        "unit": question.get("unit", ""),
        "options": builder.options_text(question.get("options", [])),
        "show_if_question": question["show_if"]["question"] if question.get("show_if") else "",
        "show_if_equals": builder.condition_text(
            parent, question["show_if"]["equals"] if question.get("show_if") else None
        ),
        "publication": question.get("publication") or "",
        "per_inhabitant": "ja" if question.get("per_inhabitant") else "",
    }
    if values:
        # What was typed, after an error: checkboxes that are off are absent from a form.
        current = current | {"required": "", "per_inhabitant": ""} | values
    headers = None
    if is_htmx(request) and status_code != 200:
        # The inline editor came back with errors: it replaces itself, not the builder.
        headers = {
            "HX-Retarget": "#vraag-bewerken",
            "HX-Reselect": "#vraag-bewerken",
            "HX-Reswap": "outerHTML",
        }
    return render(
        request,
        "research/question.html",
        _status_code(request, status_code),
        headers,
        me=me,
        survey=survey,
        question=question,
        section=questionnaire["sections"][i],
        earlier=earlier,
        values=current,
        errors=errors,
        summary=summary,
        question_types=builder.QUESTION_TYPES,
        publication=builder.PUBLICATION,
        published=survey["status"] != "draft",
    )


@router.get(f"{BASE}/{{survey_id}}/vragen/{{key}}")
async def question_page(request: Request, survey_id: UUID, key: str) -> Response:
    api = Api(request)
    survey = await _survey(api, survey_id)
    return await _question_page(request, api, survey, key, {}, [], {})


@router.post(f"{BASE}/{{survey_id}}/vragen/{{key}}")
async def change_question(request: Request, survey_id: UUID, key: str) -> Response:
    form, api, survey = await _editing(request, survey_id)
    if survey is None:
        return await _stale(request, api, survey_id)
    questionnaire = _questionnaire(survey)
    action = text(form, "actie")
    try:
        if action == "omhoog":
            changed = builder.move_question(questionnaire, key, -1)
        elif action == "omlaag":
            changed = builder.move_question(questionnaire, key, 1)
        elif action == "verwijderen":
            changed = builder.delete_question(questionnaire, key)
            return await _send(
                request,
                api,
                survey,
                {"questionnaire": builder.without_empty_questionnaire(changed)},
                anchor="#vragenlijst",
            )
        else:
            parsed = builder.parse_question_form(
                form, key, builder.questions_before(questionnaire, key)
            )
            if parsed.errors:
                return await _question_page(
                    request,
                    api,
                    survey,
                    key,
                    {k: _t(request, v) for k, v in parsed.errors.items()},
                    [],
                    _form_values(form),
                    422,
                )
            changed = builder.update_question(questionnaire, key, parsed.body)
            return await _send(
                request,
                api,
                survey,
                {"questionnaire": changed},
                anchor=f"#vraag-{key}",
                on_error="question",
                question_key=key,
                values=_form_values(form),
            )
    except builder.NotFound:
        return await _stale(request, api, survey_id)
    return await _send(request, api, survey, {"questionnaire": changed}, anchor=f"#vraag-{key}")


# -- preview -----------------------------------------------------------------------------
def _preview_answers(questionnaire: Questionnaire, form: FormData | None) -> dict[str, Any]:
    """What was tried out in the preview (never saved): valid answers only."""
    if form is None:
        return {}
    out: dict[str, Any] = {}
    for question in questionnaire.questions():
        value = parse(question, form)
        if value is not None and not isinstance(value, InvalidAnswer):
            out[question.key] = value
    return out


async def _preview(request: Request, survey_id: UUID, form: FormData | None) -> Response:
    api = Api(request)
    me = await _manager(api)
    survey = await _survey(api, survey_id)
    if not survey.get("questionnaire"):
        return redirect(request, f"{BASE}/{survey_id}")
    questionnaire = Questionnaire.model_validate(survey["questionnaire"])
    answers = _preview_answers(questionnaire, form)
    response = {
        "status": "draft",
        "version": 0,
        "answers": answers,
        "warnings": [],
        "previous_answers": {},
        "can_edit": True,
    }
    loaded = Loaded(survey, response, questionnaire)
    views = question_views(language(request), loaded)
    return render(
        request,
        "research/preview.html",
        me=me,
        survey=survey,
        response=response,
        questionnaire=questionnaire,
        views=views,
        facts=_survey_facts(survey),
        shown=len(visible_questions(questionnaire, answers)),
    )


@router.get(f"{BASE}/{{survey_id}}/voorbeeld")
async def preview(request: Request, survey_id: UUID) -> Response:
    return await _preview(request, survey_id, None)


@router.post(f"{BASE}/{{survey_id}}/voorbeeld")
async def preview_try(request: Request, survey_id: UUID) -> Response:
    """Answers tried out in the preview show its conditional questions; nothing is saved."""
    form = await form_of(request)
    return await _preview(request, survey_id, form)


# -- publish and close -------------------------------------------------------------------
ACTIONS = {"publiceren": "publish", "sluiten": "close"}


@router.get(f"{BASE}/{{survey_id}}/publiceren")
async def publish_page(request: Request, survey_id: UUID) -> Response:
    return await confirm_page(request, survey_id, "publiceren")


@router.get(f"{BASE}/{{survey_id}}/sluiten")
async def close_page(request: Request, survey_id: UUID) -> Response:
    return await confirm_page(request, survey_id, "sluiten")


@router.post(f"{BASE}/{{survey_id}}/publiceren")
async def publish(request: Request, survey_id: UUID) -> Response:
    return await confirm(request, survey_id, "publiceren")


@router.post(f"{BASE}/{{survey_id}}/sluiten")
async def close(request: Request, survey_id: UUID) -> Response:
    return await confirm(request, survey_id, "sluiten")


async def confirm_page(request: Request, survey_id: UUID, action: str) -> Response:
    """A confirmation step: what publishing or closing means, and for whom."""
    api = Api(request)
    me = await _manager(api)
    survey = await _survey(api, survey_id)
    participants = await api.get("surveys", f"/surveys/{survey_id}/participants")
    return render(
        request,
        "research/confirm.html",
        me=me,
        survey=survey,
        action=action,
        participants=participants,
        summary=[],
    )


async def confirm(request: Request, survey_id: UUID, action: str) -> Response:
    await form_of(request)
    api = Api(request)
    me = await _manager(api)
    lang = language(request)
    try:
        await api.call("POST", "surveys", f"/surveys/{survey_id}/{ACTIONS[action]}")
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        fields, rest = builder.survey_errors(lang, exc.errors)
        summary = list(fields.values()) + rest or [
            _t(request, "Dit kan niet (meer): het onderzoek is al gepubliceerd of gesloten.")
        ]
        survey = await _survey(api, survey_id)
        participants = await api.get("surveys", f"/surveys/{survey_id}/participants")
        return render(
            request,
            "research/confirm.html",
            _status_code(request, exc.status),
            me=me,
            survey=survey,
            action=action,
            participants=participants,
            summary=summary,
        )
    done = "gepubliceerd" if action == "publiceren" else "gesloten"
    return redirect(request, f"{BASE}/{survey_id}?klaar={done}")


# -- progress and review -----------------------------------------------------------------
PROGRESS_ORDER = ("not_started", "draft", "returned", "reopened", "submitted", "accepted")


@router.get(f"{BASE}/{{survey_id}}/voortgang")
async def progress(request: Request, survey_id: UUID) -> Response:
    api = Api(request)
    me = await _manager(api)
    survey, data, participants = await asyncio.gather(
        _survey(api, survey_id),
        api.get("responses", f"/surveys/{survey_id}/progress"),
        api.get("surveys", f"/surveys/{survey_id}/participants"),
    )
    names = {str(p["id"]): p.get("name") or str(p["id"]) for p in participants["items"]}
    rows = sorted(
        (
            {
                **entry,
                "name": names.get(str(entry["organisation_id"]), str(entry["organisation_id"])),
            }
            for entry in data["organisations"]
        ),
        key=lambda r: str(r["name"]).lower(),
    )
    return render(
        request,
        "research/progress.html",
        me=me,
        survey=survey,
        progress=data,
        rows=rows,
        order=[s for s in PROGRESS_ORDER if s in data["counts"] or s in STATUS_LABELS],
        status_labels=STATUS_LABELS,
    )


async def _review_page(
    request: Request,
    api: Api,
    survey_id: UUID,
    organisation_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    notice: str = "",
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    me = await _manager(api)
    lang = language(request)
    survey, data, participants = await asyncio.gather(
        _survey(api, survey_id),
        api.get("responses", f"/surveys/{survey_id}/progress"),
        api.get("surveys", f"/surveys/{survey_id}/participants"),
    )
    entry = next(
        (e for e in data["organisations"] if str(e["organisation_id"]) == str(organisation_id)),
        None,
    )
    if entry is None:
        raise ApiError(404, {"detail": ""})
    name = next(
        (p.get("name") for p in participants["items"] if str(p["id"]) == str(organisation_id)),
        None,
    ) or str(organisation_id)
    response: dict[str, Any] | None = None
    sections: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    if _is_researcher(me) and entry["status"] != "not_started":
        # Answers are for researchers only; a KB administrator sees the status.
        got: list[dict[str, Any]] = await asyncio.gather(
            api.get("responses", f"/surveys/{survey_id}/responses/{organisation_id}"),
            api.get("responses", f"/surveys/{survey_id}/responses/{organisation_id}/history"),
        )
        response = got[0]
        history = got[1]["items"]
        raw = survey.get("questionnaire")
        if response["questionnaire_version"] != survey.get("questionnaire_version") or not raw:
            frozen = await api.get(
                "surveys",
                f"/surveys/{survey_id}/questionnaire",
                params={"version": response["questionnaire_version"]},
            )
            raw = frozen["questionnaire"]
        questionnaire = Questionnaire.model_validate(raw)
        answers = response["answers"]
        visible = visible_questions(questionnaire, answers)
        warned = {w["question"]: w for w in response.get("warnings", [])}
        for section in questionnaire.sections:
            rows = []
            for q in section.questions:
                if q.key not in visible:
                    continue
                warning = warned.get(q.key)
                rows.append(
                    {
                        "q": q,
                        "answer": display(lang, q, answers.get(q.key)),
                        "previous": display(
                            lang, q, (response.get("previous_answers") or {}).get(q.key)
                        ),
                        "warning": (
                            warning.get("message_en") if lang == "en" else warning.get("message")
                        )
                        if warning
                        else "",
                        "explanation": response["explanations"].get(q.key, ""),
                    }
                )
            sections.append({"section": section, "rows": rows})
    return render(
        request,
        "research/review.html",
        _status_code(request, status_code),
        me=me,
        survey=survey,
        entry=entry,
        organisation_id=str(organisation_id),
        name=name,
        response=response,
        sections=sections,
        history=history,
        status_labels=STATUS_LABELS,
        is_researcher=_is_researcher(me),
        errors=errors or {},
        values=values or {},
        notice=notice,
    )


REVIEW_NOTICES = {
    "geaccepteerd": "De inzending is geaccepteerd.",
    "teruggestuurd": "De inzending is teruggestuurd; de contactpersoon krijgt een e-mail.",
    "heropend": "De inzending is heropend; de bibliotheek kan haar antwoorden corrigeren.",
}


@router.get(f"{BASE}/{{survey_id}}/organisaties/{{organisation_id}}")
async def review(
    request: Request, survey_id: UUID, organisation_id: UUID, klaar: str = ""
) -> Response:
    api = Api(request)
    notice = _t(request, REVIEW_NOTICES[klaar]) if klaar in REVIEW_NOTICES else ""
    return await _review_page(request, api, survey_id, organisation_id, notice=notice)


REVIEW_ACTIONS = {
    "accepteren": ("accept", "", "geaccepteerd"),
    "terugsturen": ("return", "remark", "teruggestuurd"),
    "heropenen": ("reopen", "reason", "heropend"),
}


@router.post(f"{BASE}/{{survey_id}}/organisaties/{{organisation_id}}/{{action}}")
async def review_action(
    request: Request, survey_id: UUID, organisation_id: UUID, action: str
) -> Response:
    if action not in REVIEW_ACTIONS:
        raise ApiError(404, {"detail": ""})
    form = await form_of(request)
    api = Api(request)
    await _manager(api)
    endpoint, field_name, done = REVIEW_ACTIONS[action]
    body: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if field_name:
        body[field_name] = text(form, field_name)
        if not body[field_name]:
            errors[field_name] = _t(request, "Vul dit veld in.")
    if not errors:
        try:
            await api.call(
                "POST",
                "responses",
                f"/surveys/{survey_id}/responses/{organisation_id}/{endpoint}",
                json=body if field_name else None,
            )
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            message = (
                builder.api_message(language(request), exc.errors[0])
                if exc.errors
                else _t(request, "Dit kan niet in de huidige status van de inzending.")
            )
            errors[field_name or "actie"] = message
        else:
            return redirect(
                request, f"{BASE}/{survey_id}/organisaties/{organisation_id}?klaar={done}"
            )
    return await _review_page(
        request,
        api,
        survey_id,
        organisation_id,
        errors=errors,
        values=_form_values(form),
        status_code=422,
    )


# -- all reports -------------------------------------------------------------------------
async def _reports_of(api: Api, survey_id: str) -> list[dict[str, Any]]:
    try:
        items: list[dict[str, Any]] = await api.get("reporting", f"/surveys/{survey_id}/reports")
    except ApiError as exc:
        if exc.status in (403, 404):
            return []
        raise
    return sorted(items, key=lambda r: str(r["name"]).lower())


@router.get("/beheer/rapporten")
async def all_reports(request: Request) -> Response:
    """Every published survey with the organisations that have a report."""
    api = Api(request)
    me = await _manager(api)
    page = await api.get("surveys", "/surveys", params={"limit": 500})
    published = [s for s in page["items"] if s["status"] in ("open", "closed")]
    published.sort(key=lambda s: str(s["closes_at"]), reverse=True)
    reports = await asyncio.gather(*(_reports_of(api, str(s["id"])) for s in published))
    return render(
        request,
        "research/reports.html",
        me=me,
        rows=[{"survey": s, "reports": r} for s, r in zip(published, reports, strict=True)],
        survey_status=builder.SURVEY_STATUS,
    )
