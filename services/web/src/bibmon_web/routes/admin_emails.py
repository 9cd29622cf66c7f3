"""KB administrators: e-mails that failed (or found no recipient), and sending them again.

Over the notifier's /emails API, which never shows to whom an e-mail goes: the pages show
what (the kind of e-mail), when, how it went and, for survey e-mails, the organisation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from bibmon_web.client import Api, ApiError
from bibmon_web.i18n import translate
from bibmon_web.pages import form_of, language, redirect, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
# The notifier's statuses, in the order the filter offers them ("" = every e-mail).
STATUS_LABELS = {
    "failed": "Mislukt",
    "no_recipient": "Geen ontvanger",
    "pending": "In de wachtrij",
    "sent": "Verstuurd",
    "expired": "Verlopen",
}
RETRYABLE = ("failed", "no_recipient")
TEMPLATE_LABELS = {
    "account_locked": "Account geblokkeerd",
    "account_rejected": "Accountaanvraag afgewezen",
    "account_request_received": "Accountaanvraag ontvangen",
    "account_welcome": "Welkom: wachtwoord instellen",
    "email_changed": "E-mailadres gewijzigd",
    "password_changed": "Wachtwoord gewijzigd",
    "password_reset": "Wachtwoord herstellen",
    "report_ready": "Rapport klaar",
    "response_receipt": "Ontvangstbevestiging",
    "response_returned": "Vragenlijst teruggestuurd",
    "survey_invitation": "Uitnodiging vragenlijst",
    "survey_reminder": "Herinnering vragenlijst",
}


# The notifier's reasons for refusing a retry (English operator text) → Dutch source texts.
REFUSALS = {
    "already been removed": "De ontvanger van deze e-mail is niet meer bekend: de mailserver "
    "weigerde haar definitief, of het account is verwijderd. Laat een nieuwe e-mail sturen "
    "(bijvoorbeeld via ‘Wachtwoord vergeten’).",
    "has expired": "Deze e-mail is verlopen: de link erin werkt niet meer.",
    "Only failed": "Alleen mislukte e-mails, of e-mails zonder ontvanger, kunnen opnieuw "
    "worden verstuurd.",
}


def refusal(lang: str, detail: str) -> str:
    """The notifier's 409 reason in the page's language (its own text when unknown)."""
    for phrase, text in REFUSALS.items():
        if phrase in detail:
            return translate(lang, text)
    return detail


async def _organisation_names(api: Api, emails: list[dict[str, Any]]) -> dict[str, str]:
    """Names of the organisations survey e-mails are for (public master data)."""
    names: dict[str, str] = {}
    for org_id in {str(e["organisation_id"]) for e in emails if e.get("organisation_id")}:
        try:
            organisation = await api.get(
                "identity", f"/organisations/{org_id}", authenticated=False
            )
        except ApiError:
            continue
        names[org_id] = str(organisation["name"])
    return names


@router.get("/beheer/e-mails")
async def emails(
    request: Request,
    status: str = Query("failed", max_length=20),
    voor: datetime | None = None,
) -> Response:
    api = Api(request)
    await api.me()
    wanted = status if status in STATUS_LABELS else ""
    params: dict[str, Any] = {"limit": PAGE_SIZE}
    if wanted:
        params["status"] = wanted
    if voor is not None:
        params["before"] = voor.isoformat()
    page = await api.get("notifier", "/emails", params=params)
    return render(
        request,
        "admin/emails.html",
        emails=page["items"],
        next_before=page["next_before"],
        status=wanted,
        older=voor is not None,
        status_labels=STATUS_LABELS,
        template_labels=TEMPLATE_LABELS,
        retryable=RETRYABLE,
        organisations=await _organisation_names(api, page["items"]),
    )


async def _email_page(
    request: Request, api: Api, email_id: UUID, status_code: int = 200, **values: Any
) -> Response:
    await api.me()
    email = await api.get("notifier", f"/emails/{email_id}")
    return render(
        request,
        "admin/email.html",
        status_code,
        email=email,
        status_labels=STATUS_LABELS,
        template_labels=TEMPLATE_LABELS,
        retryable=RETRYABLE,
        organisations=await _organisation_names(api, [email]),
        **({"done": "", "refused": ""} | values),
    )


@router.get("/beheer/e-mails/{email_id}")
async def email_page(request: Request, email_id: UUID, klaar: str = "") -> Response:
    return await _email_page(request, Api(request), email_id, done=klaar)


@router.post("/beheer/e-mails/{email_id}/opnieuw")
async def retry(request: Request, email_id: UUID) -> Response:
    await form_of(request)
    api = Api(request)
    try:
        await api.call("POST", "notifier", f"/emails/{email_id}/retry")
    except ApiError as exc:
        if exc.status != 409:
            raise
        reason = refusal(language(request), exc.detail)
        return await _email_page(request, api, email_id, 409, refused=reason)
    return redirect(request, f"/beheer/e-mails/{email_id}?klaar=opnieuw")
