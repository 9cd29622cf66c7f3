"""Typed message handlers: each receives the service's dependencies and its own message type.

    async def on_replay_requested(
        deps: SurveysDeps, conn: asyncpg.Connection, message: ReplayRequested, envelope: CloudEvent
    ) -> None: ...

    Consumer.of_service(ctx, queue=QUEUE, routes=[on(ReplayRequested, on_replay_requested)])

`on` ties a contract class to its handler (mypy checks that the handler takes that class);
`bind` (which `Consumer.of_service` calls with the service's deps) checks the parsed
message's class once, here, so no handler asserts it.
Handlers run inside the consumer's transaction, together with the inbox row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg

from bibmon_common.events import CloudEvent, Message

__all__ = ["Route", "TypedHandler", "bind", "on"]

D = TypeVar("D")
M = TypeVar("M", bound=Message)

TypedHandler = Callable[[D, asyncpg.Connection, M, CloudEvent], Awaitable[None]]
# What the consumer calls: the message is already parsed into its registered class.
_BoundHandler = Callable[[asyncpg.Connection, Message, CloudEvent], Awaitable[None]]


@dataclass(frozen=True)
class Route(Generic[D, M]):
    """One message type and the handler that takes it."""

    message_type: type[M]
    handler: TypedHandler[D, M]


def on(message_type: type[M], handler: TypedHandler[D, M]) -> Route[D, M]:
    """Route messages of `message_type` to `handler`."""
    return Route(message_type, handler)


def bind(deps: Any, routes: Iterable[Route[Any, Any]]) -> dict[str, _BoundHandler]:
    """The consumer's handler table: type → handler with `deps` bound and the class checked."""
    table: dict[str, _BoundHandler] = {}
    for route in routes:
        type_ = route.message_type.type
        if type_ in table:
            raise ValueError(f"two handlers for {type_!r}")
        table[type_] = _bound(deps, route)
    return table


def _bound(deps: Any, route: Route[Any, Any]) -> _BoundHandler:
    async def handle(conn: asyncpg.Connection, message: Message, envelope: CloudEvent) -> None:
        if not isinstance(message, route.message_type):
            # The registry parses each type into its one class; this is a wiring error.
            expected = route.message_type.__name__
            raise TypeError(f"{type(message).__name__} routed to a {expected} handler")
        await route.handler(deps, conn, message, envelope)

    handle.__qualname__ = getattr(route.handler, "__qualname__", "handler")
    return handle
