"""Which `basic.ack` frames the ack collector sends for the acks of one turn."""

from __future__ import annotations

from bibmon_common.messaging.acks import _ChannelAcks


def frames(state: _ChannelAcks, *due: int) -> list[tuple[int, bool]]:
    state.due.update(due)
    return state.frames()


def test_a_run_from_the_floor_goes_as_one_multiple_ack() -> None:
    state = _ChannelAcks()
    assert frames(state, 1, 2, 3, 4) == [(4, True)]
    assert state.floor == 4


def test_a_single_ack_at_the_floor_is_not_multiple() -> None:
    state = _ChannelAcks()
    assert frames(state, 1) == [(1, False)]
    assert frames(state, 2) == [(2, False)]
    assert state.floor == 2


def test_acks_above_a_gap_go_alone_and_the_floor_waits_for_the_gap() -> None:
    state = _ChannelAcks()
    # Tag 1 is still being handled: 2 and 3 may not be covered by a `multiple` ack.
    assert frames(state, 2, 3) == [(2, False), (3, False)]
    assert state.floor == 0
    # Tag 1 done: the floor passes 1-3; only tag 1 is acked (2 and 3 were).
    assert frames(state, 1) == [(1, False)]
    assert state.floor == 3
    assert frames(state, 4, 5) == [(5, True)]


def test_a_run_may_span_tags_settled_earlier() -> None:
    state = _ChannelAcks()
    assert frames(state, 3) == [(3, False)]
    # 1, 2 now: the run 1-3 holds two due tags; one `multiple` ack up to 2 covers them.
    assert frames(state, 1, 2) == [(2, True)]
    assert state.floor == 3


def test_a_rejected_message_lets_the_floor_pass() -> None:
    state = _ChannelAcks()
    state.settled_above.add(1)  # rejected
    state.advance()
    assert state.floor == 1
    assert frames(state, 2, 3) == [(3, True)]


def test_a_gap_splits_the_turn() -> None:
    state = _ChannelAcks()
    assert frames(state, 1, 2, 4, 5) == [(2, True), (4, False), (5, False)]
    assert state.floor == 2
    assert state.settled_above == {4, 5}
    assert frames(state, 3) == [(3, False)]
    assert state.floor == 5


def test_a_tag_acked_again_is_not_sent_twice() -> None:
    state = _ChannelAcks()
    assert frames(state, 1, 2) == [(2, True)]
    assert frames(state, 4) == [(4, False)]
    # 2 (below the floor) and 4 (settled above the gap) again: nothing is sent for them.
    assert frames(state, 2, 4, 3) == [(3, False)]
    assert state.floor == 4
