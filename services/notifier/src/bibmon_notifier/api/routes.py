"""Operator endpoints under /api/notifier: see failed e-mails and send them again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from bibmon_common.app import DbConn
from bibmon_common.auth import KbAdmin
from bibmon_notifier import services

router = APIRouter(tags=["emails"])

# `no_recipient`: a survey e-mail whose organisation has no contact person and no primary
# contact in identity; a kb_admin may register one and retry it.
Status = Literal["pending", "sent", "failed", "expired", "no_recipient"]


class EmailOut(BaseModel):
    """An e-mail job as operators see it: what, when, how it went; never to whom."""

    id: UUID
    template: str
    locale: str
    status: Status
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    expires_at: datetime | None
    # Survey e-mails name their recipient by survey and organisation (never an address).
    survey_id: UUID | None = None
    organisation_id: UUID | None = None


class EmailList(BaseModel):
    """A page of e-mails, newest first; pass `next_before` as `before` for the next page."""

    items: list[EmailOut]
    next_before: datetime | None


def _out(row: object) -> EmailOut:
    return EmailOut.model_validate(dict(row))  # type: ignore[call-overload]


@router.get("/emails", response_model=EmailList, summary="List e-mails (kb_admin)")
async def list_emails(
    conn: DbConn,
    _admin: KbAdmin,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: datetime | None = None,
) -> EmailList:
    """E-mail jobs, newest first; `?status=failed` or `?status=no_recipient` need attention."""
    rows = await services.list_emails(conn, status=status, limit=limit, before=before)
    items = [_out(r) for r in rows]
    return EmailList(items=items, next_before=items[-1].created_at if len(items) == limit else None)


@router.get("/emails/{email_id}", response_model=EmailOut, summary="One e-mail (kb_admin)")
async def get_email(conn: DbConn, _admin: KbAdmin, email_id: UUID) -> EmailOut:
    """Status and last error of one e-mail."""
    return _out(await services.get_email(conn, email_id))


@router.post(
    "/emails/{email_id}/retry",
    response_model=EmailOut,
    status_code=202,
    summary="Send a failed or recipient-less e-mail again (kb_admin)",
    responses={404: {"description": "No such e-mail"}, 409: {"description": "Cannot retry"}},
)
async def retry_email(conn: DbConn, admin: KbAdmin, email_id: UUID) -> EmailOut:
    """Queue a failed or `no_recipient` e-mail again; 409 when its recipient is forgotten."""
    return _out(await services.retry_email(conn, email_id, by=admin.user_id))
