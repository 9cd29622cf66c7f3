"""Messaging: topology, a confirming broker, the transactional outbox and the inbox consumer."""

from bibmon_common.messaging.broker import (
    Broker,
    BrokerUnavailable,
    PublishFailed,
    Rejected,
    Unroutable,
)
from bibmon_common.messaging.consumer import Consumer, Handler
from bibmon_common.messaging.outbox import OUTBOX_INBOX_DDL, OutboxRelay, enqueue
from bibmon_common.messaging.topology import (
    COMMANDS_EXCHANGE,
    DLX,
    EVENTS_EXCHANGE,
    EXPORTS_EXCHANGE,
    declare_topology,
    queue_arguments,
)

__all__ = [
    "COMMANDS_EXCHANGE",
    "DLX",
    "EVENTS_EXCHANGE",
    "EXPORTS_EXCHANGE",
    "OUTBOX_INBOX_DDL",
    "Broker",
    "BrokerUnavailable",
    "Consumer",
    "Handler",
    "OutboxRelay",
    "PublishFailed",
    "Rejected",
    "Unroutable",
    "declare_topology",
    "enqueue",
    "queue_arguments",
]
