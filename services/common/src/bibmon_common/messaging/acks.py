"""Acknowledgements of one event-loop turn, sent as few `basic.ack` frames as order allows.

A consumer that settles a batch of messages at once would send one `basic.ack` per
message; RabbitMQ handles each separately. Here an ack is collected and sent at the end of
the event loop's turn (aio-pika's own `ack()` only writes to the socket, so nothing waits
longer than that turn). Per channel the collector knows the *floor*: the highest delivery
tag with every tag up to it settled. The acks that continue the floor without a gap go as
one `basic.ack multiple=true` with the highest of them; an ack above a gap (a tag below it
is still being worked on, or not yet seen) goes alone, as before. So `multiple` never
covers a message that is not done: delivery tags on a channel count up from 1 without
holes, and a tag that was never registered here is a gap.

A channel replaced after a reconnect starts again from floor 0 (its tags do too); acks
meant for a closed channel fail as single acks did (logged; the broker redelivers and the
inbox skips the duplicate).
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import Any

import structlog
from aio_pika.abc import AbstractIncomingMessage

log = structlog.get_logger(__name__)


@dataclass
class _ChannelAcks:
    floor: int = 0  # every tag <= floor is settled
    settled_above: set[int] = field(default_factory=set)  # settled tags above a gap
    due: set[int] = field(default_factory=set)  # acks asked for in this turn

    def advance(self) -> None:
        while self.floor + 1 in self.settled_above:
            self.floor += 1
            self.settled_above.discard(self.floor)

    def frames(self) -> list[tuple[int, bool]]:
        """The (tag, multiple) acks for what is due, and the new floor."""
        due, self.due = self.due, set()
        # A tag settled before (a second settle of one message) is never acked again:
        # RabbitMQ would close the channel for the unknown tag.
        again = {tag for tag in due if tag <= self.floor or tag in self.settled_above}
        if again:
            log.error("message.acked_twice", delivery_tags=sorted(again))
            due -= again
        frames: list[tuple[int, bool]] = []
        run_top, run_count = 0, 0
        while self.floor + 1 in due or self.floor + 1 in self.settled_above:
            self.floor += 1
            if self.floor in due:
                due.discard(self.floor)
                run_top, run_count = self.floor, run_count + 1
            else:
                self.settled_above.discard(self.floor)
        if run_count:
            frames.append((run_top, run_count > 1))
        for tag in sorted(due):  # above a gap: alone
            frames.append((tag, False))
            self.settled_above.add(tag)
        return frames


class AckCollector:
    """Collects a consumer's acks for the end of the event loop's turn."""

    def __init__(self) -> None:
        self._channels: weakref.WeakKeyDictionary[Any, _ChannelAcks] = weakref.WeakKeyDictionary()
        self._scheduled = False
        # The last flush's sending task: each waits for the one before, so a single ack
        # is never written after a `multiple` that already covered its tag.
        self._sending: asyncio.Task[None] | None = None

    def _of(self, channel: Any) -> _ChannelAcks:
        state = self._channels.get(channel)
        if state is None:
            state = self._channels[channel] = _ChannelAcks()
        return state

    def ack(self, message: AbstractIncomingMessage) -> None:
        """Acknowledge `message` at the end of this turn (with others, where it can)."""
        tag = message.delivery_tag
        if tag is None:
            return
        try:
            channel = message.channel
        except Exception as exc:  # closed meanwhile: aio-pika raises ChannelInvalidStateError
            log.warning("message.ack_failed", error_type=type(exc).__name__)
            return
        self._of(channel).due.add(tag)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def settled(self, message: AbstractIncomingMessage) -> None:
        """`message` was settled otherwise (rejected): the floor may pass it."""
        tag = message.delivery_tag
        if tag is None:
            return
        try:
            state = self._of(message.channel)
        except Exception:  # closed: its state goes with it
            return
        state.settled_above.add(tag)
        state.advance()

    def _flush(self) -> None:
        self._scheduled = False
        batches = [
            (channel, state.frames())
            for channel, state in list(self._channels.items())
            if state.due
        ]
        if batches:
            self._sending = asyncio.create_task(_send(self._sending, batches))

    async def drain(self) -> None:
        """Wait until every collected ack is written (before the channel closes)."""
        await asyncio.sleep(0)  # a flush scheduled in this turn runs first
        while self._sending is not None and not self._sending.done():
            await asyncio.gather(self._sending, return_exceptions=True)


async def _send(
    before: asyncio.Task[None] | None, batches: list[tuple[Any, list[tuple[int, bool]]]]
) -> None:
    if before is not None and not before.done():
        await asyncio.gather(before, return_exceptions=True)
    for channel, frames in batches:
        await _send_frames(channel, frames)


async def _send_frames(channel: Any, frames: list[tuple[int, bool]]) -> None:
    for tag, multiple in frames:
        try:
            await channel.basic_ack(delivery_tag=tag, multiple=multiple)
        except Exception as exc:
            # After a reconnect the tag belongs to a dead channel (aio-pika #688): the
            # broker redelivers and the inbox skips the duplicate.
            log.warning("message.ack_failed", error_type=type(exc).__name__)
            return
