"""Organisations: public master data, managed by kb_admin; changes go out as events."""

from __future__ import annotations

import uuid
from importlib import resources
from typing import Any

import structlog

from bibmon_common.contracts.identity import OrganisationRegistered, OrganisationUpdated
from bibmon_common.errors import Conflict, InvalidInput, NotFound, field_error
from bibmon_identity import repository as repo
from bibmon_identity.deps import IdentityDeps
from bibmon_identity.domain.organisations import (
    SizeClass,
    canonical_province,
    parse_organisations_csv,
    size_class,
)
from bibmon_identity.models import (
    ImportLineError,
    ImportOut,
    OrganisationIn,
    OrganisationOut,
    OrganisationPage,
)
from bibmon_identity.repository import Conn, OrganisationRow
from bibmon_identity.usecases import audit
from bibmon_identity.usecases.mail import enqueue

log = structlog.get_logger(__name__)

_IMPORT_LOCK = 0x0B1B_1D02
_FACT_FIELDS = ("name", "province", "municipalities", "inhabitants", "size_class")


def present(row: OrganisationRow) -> OrganisationOut:
    """An organisation as the API shows it."""
    return OrganisationOut(
        id=row.id,
        name=row.name,
        province=row.province,
        municipalities=list(row.municipalities),
        inhabitants=row.inhabitants,
        size_class=row.size_class,
        size_class_label=SizeClass(row.size_class).label,
        source=row.source,
        primary_contact_user_id=row.primary_contact_user_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _facts(row: OrganisationRow) -> dict[str, Any]:
    """The public facts every service keeps (the events' payload)."""
    return {
        "organisation_id": row.id,
        "name": row.name,
        "province": row.province,
        "municipalities": tuple(row.municipalities),
        "inhabitants": row.inhabitants,
        "size_class": row.size_class,
    }


async def list_organisations(
    deps: IdentityDeps,
    *,
    province: str | None,
    size_class: str | None,
    limit: int,
    offset: int,
    q: str | None = None,
) -> OrganisationPage:
    """A page of organisations (`q`: part of the name or of a municipality)."""
    if province is not None:
        province = canonical_province(province) or province
    async with deps.connection() as conn:
        rows, total = await repo.list_organisations(
            conn, province=province, size_class=size_class, limit=limit, offset=offset, q=q
        )
    return OrganisationPage(
        items=[present(r) for r in rows], total=total, limit=limit, offset=offset
    )


async def get_organisation(deps: IdentityDeps, organisation_id: uuid.UUID) -> OrganisationOut:
    """One organisation or 404."""
    async with deps.connection() as conn:
        row = await repo.get_organisation(conn, organisation_id)
    if row is None:
        raise NotFound("The organisation does not exist.")
    return present(row)


def _province_or_error(value: str) -> str:
    province = canonical_province(value)
    if province is None:
        message = "Unknown province; use one of the twelve Dutch provinces."
        raise InvalidInput(message, errors=[field_error("province", message, "unknown_province")])
    return province


async def _insert(
    deps: IdentityDeps,
    conn: Conn,
    *,
    name: str,
    province: str,
    municipalities: list[str],
    inhabitants: int,
    source: str | None,
) -> OrganisationRow:
    row = await repo.insert_organisation(
        conn,
        id=uuid.uuid4(),
        name=name,
        province=province,
        municipalities=municipalities,
        inhabitants=inhabitants,
        size_class=size_class(inhabitants, deps.settings.size_class_bounds).value,
        source=source,
    )
    await enqueue(deps, conn, OrganisationRegistered(**_facts(row)))
    return row


async def create_organisation(
    deps: IdentityDeps, body: OrganisationIn, *, actor: uuid.UUID, origin: str | None
) -> OrganisationOut:
    """Register a new organisation (kb_admin)."""
    province = _province_or_error(body.province)
    async with deps.transaction() as conn:
        if await repo.get_organisation_by_name(conn, body.name) is not None:
            raise Conflict("An organisation with this name exists.", type_="duplicate-name")
        row = await _insert(
            deps,
            conn,
            name=body.name,
            province=province,
            municipalities=body.municipalities,
            inhabitants=body.inhabitants,
            source=body.source,
        )
        await audit.record(
            conn,
            "organisation.created",
            actor=actor,
            object_type="organisation",
            object_id=row.id,
            origin=origin,
        )
    return present(row)


async def update_organisation(
    deps: IdentityDeps,
    organisation_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    actor: uuid.UUID,
    origin: str | None,
) -> OrganisationOut:
    """Change an organisation (kb_admin); the size class follows the population."""
    fields = dict(changes)
    if "province" in fields:
        fields["province"] = _province_or_error(fields["province"])
    if "inhabitants" in fields:
        fields["size_class"] = size_class(
            fields["inhabitants"], deps.settings.size_class_bounds
        ).value
    async with deps.transaction() as conn:
        before = await repo.get_organisation(conn, organisation_id)
        if before is None:
            raise NotFound("The organisation does not exist.")
        if "name" in fields:
            other = await repo.get_organisation_by_name(conn, fields["name"])
            if other is not None and other.id != organisation_id:
                raise Conflict("An organisation with this name exists.", type_="duplicate-name")
        contact = fields.get("primary_contact_user_id")
        if contact is not None:
            user = await repo.get_user(conn, contact)
            if user is None or user.organisation_id != organisation_id:
                message = "The primary contact must be a user of this organisation."
                raise InvalidInput(
                    message,
                    errors=[field_error("primary_contact_user_id", message, "not_a_member")],
                )
        if not fields:
            return present(before)
        row = await repo.update_organisation(conn, organisation_id, fields)
        assert row is not None
        if any(getattr(before, f) != getattr(row, f) for f in _FACT_FIELDS):
            await enqueue(deps, conn, OrganisationUpdated(**_facts(row)))
        await audit.record(
            conn,
            "organisation.updated",
            actor=actor,
            object_type="organisation",
            object_id=organisation_id,
            origin=origin,
            fields=sorted(fields),
        )
    return present(row)


async def import_csv(
    deps: IdentityDeps, text: str, *, actor: uuid.UUID | None, origin: str | None
) -> ImportOut:
    """Create or update organisations from CSV (matched by name); report per-line errors."""
    parsed = parse_organisations_csv(text)
    created = updated = unchanged = 0
    async with deps.transaction() as conn:
        await repo.advisory_xact_lock(conn, _IMPORT_LOCK)  # one at a time
        for item in parsed.rows:
            existing = await repo.get_organisation_by_name(conn, item.name)
            if existing is None:
                await _insert(
                    deps,
                    conn,
                    name=item.name,
                    province=item.province,
                    municipalities=item.municipalities,
                    inhabitants=item.inhabitants,
                    source=item.source,
                )
                created += 1
                continue
            fields = {
                "province": item.province,
                "municipalities": item.municipalities,
                "inhabitants": item.inhabitants,
                "size_class": size_class(item.inhabitants, deps.settings.size_class_bounds).value,
                "source": item.source,
            }
            if all(
                (list(existing.municipalities) if k == "municipalities" else getattr(existing, k))
                == v
                for k, v in fields.items()
            ):
                unchanged += 1
                continue
            row = await repo.update_organisation(conn, existing.id, fields)
            assert row is not None
            await enqueue(deps, conn, OrganisationUpdated(**_facts(row)))
            updated += 1
        await audit.record(
            conn,
            "organisation.imported",
            actor=actor,
            origin=origin,
            created=created,
            updated=updated,
            errors=len(parsed.errors),
        )
    return ImportOut(
        created=created,
        updated=updated,
        unchanged=unchanged,
        errors=[ImportLineError.model_validate(error) for error in parsed.errors],
    )


async def load_shipped_list_if_empty(deps: IdentityDeps) -> int:
    """Load data/organisations-nl.csv into an empty register (first start)."""
    async with deps.connection() as conn:
        if await repo.count_organisations(conn) > 0:
            return 0
    text = (
        resources.files("bibmon_identity")
        .joinpath("data/organisations-nl.csv")
        .read_text(encoding="utf-8")
    )
    result = await import_csv(deps, text, actor=None, origin="startup")
    log.info("organisations.loaded", created=result.created)
    return result.created


async def replay_organisations(deps: IdentityDeps, conn: Conn, replay_id: uuid.UUID) -> int:
    """Re-publish every organisation's current facts for reporting's rebuild (ADR 0012).

    As `identity.organisation.updated.v1`: the payload is the complete current state, so
    every consumer may apply it (an unchanged organisation stays unchanged).
    """
    rows = await repo.all_organisations(conn)
    for row in rows:
        await enqueue(deps, conn, OrganisationUpdated(**_facts(row)))
    log.info("replay.organisations", replay_id=str(replay_id), count=len(rows))
    return len(rows)
