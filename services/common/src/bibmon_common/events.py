"""Message contracts and their CloudEvents 1.0 envelope (structured JSON mode).

Every message on the broker is one JSON CloudEvent (https://github.com/cloudevents/spec,
version 1.0): the envelope carries `id` (the outbox row id, also the AMQP message_id and
the inbox key), `source`, `type` (also the routing key) and `time`; `data` is the
contract model. Events are past-tense facts on `bibmon.events` and carry no personal
data; commands are imperative, go to `bibmon.commands` and may name a recipient.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, TypeVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EVENTS_EXCHANGE = "bibmon.events"
COMMANDS_EXCHANGE = "bibmon.commands"
EXPORTS_EXCHANGE = "bibmon.exports"

# AMQP content type of a structured-mode CloudEvent (CloudEvents AMQP binding, 3.2).
CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"


class Message(BaseModel):
    """Base of every contract: immutable, unknown fields ignored (consumers tolerate additions)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: ClassVar[str]
    exchange: ClassVar[str]


class Event(Message):
    """A fact that happened; published on `bibmon.events` with routing key = type."""

    exchange: ClassVar[str] = EVENTS_EXCHANGE


class Export(Message):
    """A fact for KB systems; published on `bibmon.exports` with routing key = type.

    KB systems bind their own queues to that exchange with a read-only user; like an
    event it carries no personal data, only organisation-level facts.
    """

    exchange: ClassVar[str] = EXPORTS_EXCHANGE


class Command(Message):
    """A request to one service to act; published on `bibmon.commands` with routing key = type."""

    exchange: ClassVar[str] = COMMANDS_EXCHANGE


class CloudEvent(BaseModel):
    """The CloudEvents 1.0 envelope as it travels on the wire."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: UUID = Field(default_factory=uuid.uuid4)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    time: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]

    def to_bytes(self) -> bytes:
        """The envelope as UTF-8 JSON, the AMQP message body."""
        return self.model_dump_json().encode()


class UnknownMessageType(LookupError):
    """The envelope names a type no contract is registered for."""

    def __init__(self, type_: str) -> None:
        super().__init__(f"no contract registered for message type {type_!r}")
        self.type = type_


registry: dict[str, type[Message]] = {}

M = TypeVar("M", bound=type[Message])


def register(cls: M) -> M:
    """Class decorator: make a contract known to `parse_message` under its `type`."""
    type_ = getattr(cls, "type", None)
    if not isinstance(type_, str) or not type_:
        raise TypeError(f"{cls.__name__} needs a ClassVar `type`")
    if not isinstance(getattr(cls, "exchange", None), str):
        raise TypeError(f"{cls.__name__} must derive from Event or Command")
    existing = registry.get(type_)
    # The same class imported twice (e.g. by pytest's importlib mode) is harmless; two
    # different classes claiming one type would make parsing ambiguous.
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise ValueError(f"message type {type_!r} already registered by {existing.__qualname__}")
    registry[type_] = cls
    return cls


def to_envelope(
    message: Message, source: str, id: UUID | None = None, time: datetime | None = None
) -> CloudEvent:
    """Wrap a contract in a CloudEvent; `source` names the producing service."""
    return CloudEvent(
        id=id or uuid.uuid4(),
        source=source,
        type=message.type,
        time=time or datetime.now(UTC),
        data=message.model_dump(mode="json"),
    )


def parse_envelope(body: bytes) -> CloudEvent:
    """Parse an AMQP body into the envelope; raises pydantic.ValidationError (also for bad JSON)."""
    return CloudEvent.model_validate_json(body)


def parse_message(envelope: CloudEvent) -> Message:
    """Validate the envelope's data against its registered contract."""
    cls = registry.get(envelope.type)
    if cls is None:
        raise UnknownMessageType(envelope.type)
    return cls.model_validate(envelope.data)
