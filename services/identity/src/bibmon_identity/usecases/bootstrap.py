"""Start-up work: signing keys, the shipped organisations, the first admin, demo users; purge."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import structlog

from bibmon_common.app import ServiceContext
from bibmon_common.contracts.identity import AccountCreated
from bibmon_identity import repository as repo
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.domain.organisations import slug
from bibmon_identity.domain.users import KB_ADMIN, LIBRARY_STAFF
from bibmon_identity.usecases import audit
from bibmon_identity.usecases.mail import enqueue
from bibmon_identity.usecases.organisations import load_shipped_list_if_empty

log = structlog.get_logger(__name__)

ADMIN_USERNAME = "admin"
_BOOTSTRAP_LOCK = 0x0B1B_1D03
DEMO_EMAIL_DOMAIN = "demo.bibliotheekmonitor.nl"


async def on_startup(ctx: ServiceContext[IdentityDeps]) -> None:
    """Run once per process start (idempotent; safe with several replicas)."""
    deps = ctx.deps
    await deps.keys.start(deps.pool, deps.clock)
    await load_shipped_list_if_empty(deps)
    await ensure_admin(deps)
    if deps.settings.demo_enabled and deps.settings.demo_password is not None:
        await ensure_demo_staff(deps)
    if deps.settings.start_background_workers:
        ctx.spawn(purge_loop(deps), name="identity-purge")


async def ensure_admin(deps: IdentityDeps) -> bool:
    """Create kb_admin `admin` from BIBMON_BOOTSTRAP_ADMIN_PASSWORD once (README.md)."""
    password = deps.settings.bootstrap_admin_password
    if password is None:
        return False
    async with deps.connection() as conn:
        if await repo.username_taken(conn, ADMIN_USERNAME):
            return False
    # The operator chose this password; it is not policy-checked so `make run` can always
    # start, but at first login the admin must set an e-mail address and an own password
    # (account_setup scope), then enrol TOTP (mfa_enrolment scope).
    password_hash = await deps.hashing.hash(password.get_secret_value())
    async with deps.transaction() as conn:
        await repo.advisory_xact_lock(conn, _BOOTSTRAP_LOCK)
        if await repo.username_taken(conn, ADMIN_USERNAME):
            return False
        user_id = uuid.uuid4()
        await repo.insert_user(
            conn,
            id=user_id,
            username=ADMIN_USERNAME,
            name="KB-beheerder",
            email=None,
            roles=[KB_ADMIN],
            organisation_id=None,
            password_hash=password_hash,
            setup_required=True,
        )
        await enqueue(deps, conn, AccountCreated(user_id=user_id, roles=(KB_ADMIN,)))
        await audit.record(
            conn, "user.bootstrapped", object_type="user", object_id=user_id, origin="startup"
        )
    log.info("admin.bootstrapped", user_id=str(user_id))
    return True


def demo_username(organisation_name: str) -> str:
    """`staff-<slug>` of an organisation, at most 64 characters."""
    return f"staff-{slug(organisation_name)}"[:64].rstrip("-")


async def ensure_demo_staff(deps: IdentityDeps) -> int:
    """One library_staff user per organisation (BIBMON_DEMO_PASSWORD), its primary contact.

    Idempotent: only missing users are created.
    """
    assert deps.settings.demo_password is not None
    async with deps.connection() as conn:
        organisations, _ = await repo.list_organisations(
            conn, province=None, size_class=None, limit=100_000, offset=0
        )
        wanted = {demo_username(o.name): o for o in organisations}
        existing = await repo.existing_usernames(conn, list(wanted))
    missing = {u: o for u, o in wanted.items() if u not in existing}
    if not missing:
        return 0
    # All demo users share one password, so one hash serves them all (saves ~100 ms each).
    password_hash = await deps.hashing.hash(deps.settings.demo_password.get_secret_value())
    created = 0
    async with deps.transaction() as conn:
        await repo.advisory_xact_lock(conn, _BOOTSTRAP_LOCK)
        existing = await repo.existing_usernames(conn, list(missing))
        for username, organisation in missing.items():
            if username in existing:
                continue
            user_id = uuid.uuid4()
            await repo.insert_user(
                conn,
                id=user_id,
                username=username,
                name=f"Medewerker {organisation.name}",
                email=f"{username}@{DEMO_EMAIL_DOMAIN}",
                roles=[LIBRARY_STAFF],
                organisation_id=organisation.id,
                password_hash=password_hash,
            )
            # So the demo surveys' e-mails reach someone (the survey contact falls back
            # to the organisation's primary contact).
            await repo.set_primary_contact_if_unset(conn, organisation.id, user_id)
            await enqueue(
                deps,
                conn,
                AccountCreated(
                    user_id=user_id, organisation_id=organisation.id, roles=(LIBRARY_STAFF,)
                ),
            )
            created += 1
    log.info("demo.staff_created", count=created)
    return created


async def purge_once(deps: IdentityDeps) -> dict[str, int]:
    """Apply the retention schedule once."""
    now = deps.now()
    async with deps.transaction() as conn:
        settings = deps.settings
        counts = await repo.purge(
            conn,
            audit_before=now - timedelta(days=settings.audit_retention_days),
            audit_origin_before=now - timedelta(days=settings.audit_origin_retention_days),
            rejected_before=now - timedelta(days=settings.rejected_request_retention_days),
            pending_before=now - timedelta(days=settings.pending_request_retention_days),
        )
    log.info("retention.purged", **counts)
    return counts


async def purge_loop(deps: IdentityDeps) -> None:
    """Purge expired tokens and old records daily (docs/reliability.md 6, ADR 0016)."""
    while True:
        try:
            await purge_once(deps)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("retention.purge_failed")
        await asyncio.sleep(deps.settings.purge_interval_seconds)
