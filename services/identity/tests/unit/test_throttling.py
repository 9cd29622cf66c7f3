from datetime import UTC, datetime, timedelta

from bibmon_identity.domain.throttling import (
    ThrottlePolicy,
    delay_after,
    known_address_key,
    pair_key,
    record_failure,
    retry_after,
    throttle_key,
)

POLICY = ThrottlePolicy()
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def fail(times):
    state = None
    locks = 0
    for _ in range(times):
        state, locked = record_failure(state, NOW, POLICY)
        locks += locked
    return state, locks


def test_first_four_failures_cost_no_delay():
    state, _ = fail(4)
    assert retry_after(state, NOW, POLICY) is None


def test_delay_grows_from_one_second_to_a_minute():
    assert [delay_after(n, POLICY) for n in (5, 6, 7, 8, 11, 19)] == [1, 2, 4, 8, 60, 60]


def test_fifth_failure_asks_to_wait():
    state, _ = fail(5)
    assert retry_after(state, NOW, POLICY) == 1
    assert retry_after(state, NOW + timedelta(seconds=1), POLICY) is None


def test_twentieth_failure_locks_for_fifteen_minutes():
    state, locks = fail(20)
    assert locks == 1
    assert retry_after(state, NOW, POLICY) == 15 * 60
    assert retry_after(state, NOW + timedelta(minutes=15, seconds=61), POLICY) is None


def test_keys_ignore_case_and_hide_the_username():
    assert throttle_key("account", "Admin ") == throttle_key("account", "admin")
    assert b"admin" not in throttle_key("account", "admin")


def test_an_account_across_addresses_slows_down_but_never_locks():
    state = None
    for _ in range(100):
        state, locked = record_failure(state, NOW, POLICY, lock=False)
        assert not locked
    assert retry_after(state, NOW, POLICY) == 60


def test_pair_keys_differ_per_address_and_hide_both():
    assert pair_key("Admin", "10.0.0.1") == pair_key("admin ", "10.0.0.1")
    assert pair_key("admin", "10.0.0.1") != pair_key("admin", "10.0.0.2")
    assert pair_key("admin", "10.0.0.1") != known_address_key("admin", "10.0.0.1")
    assert b"10.0.0.1" not in pair_key("admin", "10.0.0.1")
