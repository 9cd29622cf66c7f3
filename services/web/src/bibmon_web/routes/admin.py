"""KB administrators: account requests (approve, reject with a reason)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bibmon_web.client import Api, ApiError
from bibmon_web.pages import form_of, language, redirect, render, text
from bibmon_web.problems import message_for

router = APIRouter(include_in_schema=False)


@router.get("/beheer/aanvragen")
async def account_requests(request: Request, klaar: str = "") -> Response:
    api = Api(request)
    await api.me()
    page = await api.get("identity", "/account-requests", params={"status": "pending"})
    return render(
        request, "admin_requests.html", requests=page["items"], done=klaar, error="", failed=""
    )


@router.post("/beheer/aanvragen/{request_id}")
async def decide(request: Request, request_id: UUID) -> Response:
    form = await form_of(request)
    api = Api(request)
    action = text(form, "besluit")
    try:
        if action == "goedkeuren":
            body = {"role": "library_staff"}
            if text(form, "username"):
                body["username"] = text(form, "username")
            await api.call("POST", "identity", f"/account-requests/{request_id}/approve", json=body)
        else:
            await api.call(
                "POST",
                "identity",
                f"/account-requests/{request_id}/reject",
                json={"reason": text(form, "reason")},
            )
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        await api.me()
        page = await api.get("identity", "/account-requests", params={"status": "pending"})
        message = message_for(language(request), exc.errors[0]) if exc.errors else exc.detail
        return render(
            request,
            "admin_requests.html",
            exc.status,
            requests=page["items"],
            done="",
            error=message,
            failed=str(request_id),
        )
    return redirect(request, f"/beheer/aanvragen?klaar={action}")
