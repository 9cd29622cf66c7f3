"""Contracts, the CloudEvents envelope and the topology arguments (nothing running)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from pydantic import ValidationError

from bibmon_common.contracts import all_messages
from bibmon_common.contracts.identity import AccountCreated, OrganisationRegistered
from bibmon_common.contracts.notifier import SendEmail
from bibmon_common.events import (
    COMMANDS_EXCHANGE,
    EVENTS_EXCHANGE,
    EXPORTS_EXCHANGE,
    CloudEvent,
    Command,
    Event,
    Export,
    UnknownMessageType,
    parse_envelope,
    parse_message,
    register,
    to_envelope,
)
from bibmon_common.messaging.topology import (
    queue_arguments,
    retry_queue_arguments,
    retry_queue_name,
)

CATALOGUE = {
    "identity.organisation.registered.v1",
    "identity.organisation.updated.v1",
    "identity.account.requested.v1",
    "identity.account.created.v1",
    "identity.user.erased.v1",
    "identity.contact_person.assigned.v1",
    "notifier.email.sent.v1",
    "notifier.email.failed.v1",
    "notifier.send_email.v1",
}
# `email_id` is the notifier's delivery id, not an address.
PERSONAL_FIELD = re.compile(r"email(?!_id)|recipient|username|first_name|last_name|phone|password")


def organisation() -> OrganisationRegistered:
    return OrganisationRegistered(
        organisation_id=uuid.uuid4(),
        name="Bibliotheek Midden-Brabant",
        province="Noord-Brabant",
        municipalities=["Tilburg", "Dongen"],
        inhabitants=290_000,
        size_class="G5",
    )


def test_envelope_round_trip_gives_back_the_same_message():
    message = organisation()
    envelope = to_envelope(message, source="bibmon-identity")

    parsed = parse_envelope(envelope.to_bytes())

    assert parsed == envelope
    assert parse_message(parsed) == message


def test_envelope_is_a_cloudevents_1_0_structured_json_document():
    envelope = to_envelope(organisation(), source="bibmon-identity")

    document = json.loads(envelope.to_bytes())

    assert document["specversion"] == "1.0"
    assert document["type"] == "identity.organisation.registered.v1"
    assert document["datacontenttype"] == "application/json"
    assert uuid.UUID(document["id"])
    assert datetime.fromisoformat(document["time"]).tzinfo is not None
    assert document["data"]["municipalities"] == ["Tilburg", "Dongen"]


def test_body_that_is_not_json_raises_validation_error():
    with pytest.raises(ValidationError):
        parse_envelope(b"not json {")


def test_envelope_without_required_attributes_is_rejected():
    with pytest.raises(ValidationError):
        parse_envelope(b'{"specversion": "1.0", "type": "x.v1", "data": {}}')


def test_unknown_type_raises_unknown_message_type():
    envelope = CloudEvent(source="test", type="nobody.knows.this.v1", data={})

    with pytest.raises(UnknownMessageType, match=r"nobody\.knows\.this\.v1"):
        parse_message(envelope)


def test_data_that_does_not_match_the_contract_raises_validation_error():
    envelope = CloudEvent(
        source="test", type="identity.user.erased.v1", data={"user_id": "not-a-uuid"}
    )

    with pytest.raises(ValidationError):
        parse_message(envelope)


def test_consumers_ignore_fields_they_do_not_know():
    user_id = uuid.uuid4()
    envelope = CloudEvent(
        source="test",
        type="identity.user.erased.v1",
        data={"user_id": str(user_id), "added_in_a_later_minor": True},
        extension="ignored too",
    )

    assert parse_message(envelope).user_id == user_id  # type: ignore[attr-defined]


def test_messages_are_immutable():
    message = AccountCreated(user_id=uuid.uuid4(), roles=["library_staff"])

    with pytest.raises(ValidationError):
        message.user_id = uuid.uuid4()  # type: ignore[misc]


def test_naive_datetimes_are_refused():
    with pytest.raises(ValidationError):
        CloudEvent(source="t", type="t.v1", time=datetime(2026, 1, 1), data={})
    with pytest.raises(ValidationError):
        send_email(expires_at=datetime(2026, 1, 1))


def send_email(**overrides: object) -> SendEmail:
    fields: dict[str, object] = {
        "idempotency_key": "password_reset:1",
        "template": "password_reset",
        "recipient_email": "lid@example.org",
        "recipient_name": "A. Lid",
        "context": {"reset_url": "https://example.org/reset#token=x", "expires_minutes": 30},
        "expires_at": datetime.now(UTC) + timedelta(minutes=30),
    }
    fields.update(overrides)
    return SendEmail(**fields)  # type: ignore[arg-type]


def test_send_email_is_a_command_on_the_commands_exchange():
    assert send_email().exchange == COMMANDS_EXCHANGE
    with pytest.raises(ValidationError):
        send_email(template="no_such_template")


def test_catalogue_holds_every_message_of_the_kernel_contract():
    assert {cls.type for cls in all_messages()} >= CATALOGUE


def test_every_contract_is_versioned_documented_and_on_the_right_exchange():
    for cls in all_messages():
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+\.v\d+", cls.type), cls.type
        assert cls.__doc__, cls.__name__
        assert len(cls.__doc__.strip()) > 20, cls.__name__
        if issubclass(cls, Event):
            assert cls.exchange == EVENTS_EXCHANGE
        elif issubclass(cls, Export):
            assert cls.exchange == EXPORTS_EXCHANGE
        else:
            assert issubclass(cls, Command)
            assert cls.exchange == COMMANDS_EXCHANGE


def test_events_carry_no_personal_data_fields():
    for cls in all_messages():
        if issubclass(cls, Event | Export):
            personal = [f for f in cls.model_fields if PERSONAL_FIELD.search(f)]
            assert personal == [], f"{cls.type} carries {personal}"
    assert {"recipient_email", "recipient_name"} <= set(SendEmail.model_fields)


def test_two_contracts_cannot_claim_one_type():
    with pytest.raises(ValueError, match="already registered"):

        @register
        class Impostor(Event):
            type: ClassVar[str] = "identity.user.erased.v1"


def test_work_queue_arguments_are_all_explicit():
    assert queue_arguments("reporting.events") == {
        "x-queue-type": "quorum",
        # A backstop only: the consumer counts attempts (docs/reliability.md 4).
        "x-delivery-limit": 50,
        "x-dead-letter-exchange": "bibmon.dlx",
        "x-dead-letter-routing-key": "reporting.events",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
        "x-max-length": 100_000,
    }


def test_retry_queue_sends_messages_back_to_the_work_queue_after_its_delay():
    arguments = retry_queue_arguments("notifier.commands", 60)

    assert retry_queue_name("notifier.commands", 60) == "notifier.commands.retry.60s"
    assert retry_queue_name("q", 0.2) == "q.retry.0.2s"
    assert arguments["x-message-ttl"] == 60_000
    assert arguments["x-dead-letter-exchange"] == ""
    assert arguments["x-dead-letter-routing-key"] == "notifier.commands"
    assert arguments["x-dead-letter-strategy"] == "at-least-once"
