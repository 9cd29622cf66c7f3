"""Who may do what on the broker: the one table behind deploy/rabbitmq/definitions.json.

Each service connects as its own RabbitMQ user `bibmon-<service>` (docs/security-suite.md). It may
configure only its own queues (`<service>.*`), write only to the exchanges it publishes
to (with topic permissions: only its own routing keys), and read only its own queues and
the exchanges it binds them to (topic permissions: only the binding keys it consumes).
RabbitMQ checks that a message's `user_id` property equals the connection's user, so the
`user_id` names the sender; consumers accept a message type only from the service that
produces it (`sender_allowed`). KB systems (user `kb-export`) read only `bibmon.exports`
through their own `kb.*` queues.

`make schemas` writes deploy/rabbitmq/definitions.json from this table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bibmon_common.events import COMMANDS_EXCHANGE, EVENTS_EXCHANGE
from bibmon_common.messaging.topology import (
    DLX,
    EXPORTS_EXCHANGE,
    parking_queue_arguments,
    parking_queue_name,
)

__all__ = [
    "ADMIN_USER",
    "COMMAND_SENDERS",
    "EXPORT_QUEUE_PREFIX",
    "EXPORT_USER",
    "SERVICES",
    "SERVICE_USER_PREFIX",
    "ServiceAccess",
    "definitions",
    "sender_allowed",
    "sender_service",
]

SERVICE_USER_PREFIX = "bibmon-"
ADMIN_USER = "bibmon-admin"
EXPORT_USER = "kb-export"
EXPORT_QUEUE_PREFIX = "kb."
VHOST = "bibmon"
# RabbitMQ's name for the default exchange in permission checks.
_AMQ_DEFAULT = "amq.default"


@dataclass(frozen=True)
class ServiceAccess:
    """What one service does on the broker."""

    # Exchanges it publishes to. On bibmon.events only its own types (`<service>.*`).
    publishes: tuple[str, ...] = (EVENTS_EXCHANGE,)
    # Commands it may send (routing key = type), on bibmon.commands.
    commands: tuple[str, ...] = ()
    # Its queues (each also gets `<queue>.retry.*` and `<queue>.parking`).
    queues: tuple[str, ...] = ()
    # Exchange -> prefixes of the routing keys it binds its queues to.
    consumes: dict[str, tuple[str, ...]] = field(default_factory=dict)


# Every service may bind identity's session revocations (access tokens of an
# ended session are refused in every service).
_SESSIONS = "identity.session."
# Reporting's rebuild asks identity, surveys and responses to replay what it keeps (ADR 0012).
_REPLAY = "reporting.replay."

SERVICES: dict[str, ServiceAccess] = {
    "identity": ServiceAccess(
        publishes=(EVENTS_EXCHANGE, COMMANDS_EXCHANGE),
        commands=("notifier.send_email.v1",),
        queues=("identity.events",),
        consumes={EVENTS_EXCHANGE: (_REPLAY,)},
    ),
    "surveys": ServiceAccess(
        queues=("surveys.events",),
        consumes={EVENTS_EXCHANGE: ("identity.organisation.", _SESSIONS, _REPLAY)},
    ),
    "responses": ServiceAccess(
        queues=("responses.events",),
        consumes={EVENTS_EXCHANGE: ("surveys.", _SESSIONS, _REPLAY)},
    ),
    "reporting": ServiceAccess(
        publishes=(EVENTS_EXCHANGE, EXPORTS_EXCHANGE),
        queues=("reporting.events",),
        consumes={EVENTS_EXCHANGE: ("identity.organisation.", _SESSIONS, "surveys.", "responses.")},
    ),
    "notifier": ServiceAccess(
        queues=("notifier.commands", "notifier.events"),
        consumes={
            COMMANDS_EXCHANGE: ("notifier.",),
            EVENTS_EXCHANGE: (
                "identity.user.",
                _SESSIONS,
                "surveys.",
                "responses.",
                "reporting.report.",
            ),
        },
    ),
}

# Command type -> the services allowed to send it (the notifier parks any other sender).
COMMAND_SENDERS: dict[str, frozenset[str]] = {}
for _service, _access in SERVICES.items():
    for _command in _access.commands:
        COMMAND_SENDERS.setdefault(_command, frozenset())
        COMMAND_SENDERS[_command] |= {_service}


def sender_service(user_id: str, own_user: str) -> str | None:
    """The service a broker user stands for, when it is named like our own user.

    Service users are `<prefix><service>` with one prefix per deployment (`bibmon-`, or a
    test's own); the prefix is read off our own user, so `kb-export` or `guest` is no service.
    """
    prefix, sep, _ = own_user.rpartition("-")
    if not sep:
        return None
    prefix += sep
    if not user_id.startswith(prefix):
        return None
    service = user_id[len(prefix) :]
    return service if service in SERVICES else None


def sender_allowed(message_type: str, user_id: str | None, *, own_user: str) -> bool:
    """True when the broker-verified `user_id` may send `message_type` to us.

    Our own user is always allowed (our retries and parking; and in development, where
    every service shares one user, there is nothing to tell apart). Otherwise an event
    must come from the service its type is named after, a command from an allowed sender.
    """
    if not user_id:
        return False
    if user_id == own_user:
        return True
    service = sender_service(user_id, own_user)
    if service is None:
        return False
    if message_type in COMMAND_SENDERS:
        return service in COMMAND_SENDERS[message_type]
    return message_type.split(".", 1)[0] == service


def _alternatives(names: list[str]) -> str:
    return "^(" + "|".join(re.escape(n) for n in names) + ")$" if names else "^$"


def _prefixes(prefixes: list[str]) -> str:
    return "^(" + "|".join(re.escape(p) for p in prefixes) + ")" if prefixes else "^$"


def definitions(vhost: str = VHOST, *, user_prefix: str = SERVICE_USER_PREFIX) -> dict[str, Any]:
    """RabbitMQ definitions (users without passwords, permissions, exchanges, parking)."""
    users: list[dict[str, Any]] = []
    permissions: list[dict[str, Any]] = []
    topic_permissions: list[dict[str, Any]] = []
    queues: list[dict[str, Any]] = []
    bindings: list[dict[str, Any]] = []

    def user(name: str, tags: list[str]) -> None:
        users.append(
            {
                "name": name,
                "password_hash": "",
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": tags,
            }
        )

    user(ADMIN_USER, ["administrator"])
    permissions.append(
        {"user": ADMIN_USER, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"}
    )
    for service, access in SERVICES.items():
        name = f"{user_prefix}{service}"
        user(name, [])
        own = re.escape(f"{service}.") + ".*"
        write = [*access.publishes]
        if access.queues:
            # Retries go through the default exchange, parking through the DLX.
            write += [_AMQ_DEFAULT, DLX]
        permissions.append(
            {
                "user": name,
                "vhost": vhost,
                "configure": f"^{own}$" if access.queues else "^$",
                # Binding a queue needs write on the queue and read on the exchange.
                "write": "^(" + "|".join([*(re.escape(x) for x in write), own]) + ")$",
                "read": "^("
                + "|".join([*(re.escape(x) for x in sorted(access.consumes)), own])
                + ")$",
            }
        )
        for exchange in (EVENTS_EXCHANGE, COMMANDS_EXCHANGE):
            writes = exchange in access.publishes
            reads = exchange in access.consumes
            if not (writes or reads):
                continue
            if exchange == EVENTS_EXCHANGE:
                write_keys = _prefixes([f"{service}."]) if writes else "^$"
            else:
                write_keys = _alternatives(list(access.commands)) if writes else "^$"
            topic_permissions.append(
                {
                    "user": name,
                    "vhost": vhost,
                    "exchange": exchange,
                    "write": write_keys,
                    "read": _prefixes(list(access.consumes.get(exchange, ()))),
                }
            )
        for queue in access.queues:
            # Declared here because binding to the DLX (a direct exchange) would let a
            # service read any queue's parked messages; services then skip that binding.
            parking = parking_queue_name(queue)
            queues.append(
                {
                    "name": parking,
                    "vhost": vhost,
                    "durable": True,
                    "auto_delete": False,
                    "arguments": parking_queue_arguments(),
                }
            )
            bindings.append(
                {
                    "source": DLX,
                    "vhost": vhost,
                    "destination": parking,
                    "destination_type": "queue",
                    "routing_key": queue,
                    "arguments": {},
                }
            )
    user(EXPORT_USER, [])
    kb_queues = re.escape(EXPORT_QUEUE_PREFIX) + ".*"
    permissions.append(
        {
            "user": EXPORT_USER,
            "vhost": vhost,
            "configure": f"^{kb_queues}$",
            "write": f"^{kb_queues}$",
            "read": f"^({re.escape(EXPORTS_EXCHANGE)}|{kb_queues})$",
        }
    )
    exchanges = [
        {
            "name": name,
            "vhost": vhost,
            "type": type_,
            "durable": True,
            "auto_delete": False,
            "internal": False,
            "arguments": {},
        }
        for name, type_ in (
            (EVENTS_EXCHANGE, "topic"),
            (COMMANDS_EXCHANGE, "topic"),
            (DLX, "direct"),
            (EXPORTS_EXCHANGE, "topic"),
        )
    ]
    return {
        "_comment": (
            "Generated by `make schemas` (scripts/generate_rabbitmq_definitions.py) from the "
            "table in bibmon_common/messaging/permissions.py; a test fails when it is stale. "
            "Committed without credentials: deploy/secrets/generate.py fills every "
            "password_hash and writes deploy/secrets/local/rabbitmq_definitions.json, which "
            "compose and Kubernetes mount. The services declare their own work and retry "
            "queues; exchanges and parking queues are declared here."
        ),
        "vhosts": [{"name": vhost, "description": "Bibliotheekmonitor: events, commands, exports"}],
        "users": users,
        "permissions": permissions,
        "topic_permissions": topic_permissions,
        "parameters": [],
        "policies": [],
        "queues": queues,
        "exchanges": exchanges,
        "bindings": bindings,
    }


def render() -> str:
    """deploy/rabbitmq/definitions.json as committed."""
    return json.dumps(definitions(), indent=2, ensure_ascii=False) + "\n"
