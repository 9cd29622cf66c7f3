"""Operator endpoints under /api/notifier: see failed e-mails and send them again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from bibmon_common.auth import KbAdmin
from bibmon_notifier.deps import Deps
from bibmon_notifier.models import EmailList, EmailOut, Status
from bibmon_notifier.usecases import emails

router = APIRouter(tags=["emails"])


@router.get("/emails", response_model=EmailList, summary="List e-mails (kb_admin)")
async def list_emails(
    deps: Deps,
    _admin: KbAdmin,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: datetime | None = None,
) -> EmailList:
    """E-mail jobs, newest first; `?status=failed` or `?status=no_recipient` need attention."""
    return await emails.list_emails(deps, status=status, limit=limit, before=before)


@router.get("/emails/{email_id}", response_model=EmailOut, summary="One e-mail (kb_admin)")
async def get_email(deps: Deps, _admin: KbAdmin, email_id: UUID) -> EmailOut:
    """Status and last error of one e-mail."""
    return await emails.get_email(deps, email_id)


@router.post(
    "/emails/{email_id}/retry",
    response_model=EmailOut,
    status_code=202,
    summary="Send a failed or recipient-less e-mail again (kb_admin)",
    responses={404: {"description": "No such e-mail"}, 409: {"description": "Cannot retry"}},
)
async def retry_email(deps: Deps, admin: KbAdmin, email_id: UUID) -> EmailOut:
    """Queue a failed or `no_recipient` e-mail again; 409 when its recipient is forgotten."""
    return await emails.retry_email(deps, email_id, by=admin.user_id)
