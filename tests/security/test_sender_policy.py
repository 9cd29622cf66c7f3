"""Who may send which message, as each consumer decides from the broker-verified user_id."""

from __future__ import annotations

import pytest

from bibmon_common.messaging.permissions import COMMAND_SENDERS, SERVICES, sender_allowed


@pytest.mark.parametrize(
    ("message_type", "sender", "allowed"),
    [
        ("notifier.send_email.v1", "bibmon-identity", True),
        ("notifier.send_email.v1", "bibmon-reporting", False),
        ("notifier.send_email.v1", "bibmon-surveys", False),
        ("identity.user.erased.v1", "bibmon-identity", True),
        ("identity.user.erased.v1", "bibmon-reporting", False),
        ("surveys.survey.published.v1", "bibmon-surveys", True),
        ("surveys.survey.published.v1", "bibmon-responses", False),
        ("identity.session.revoked.v1", "kb-export", False),
        ("identity.session.revoked.v1", "bibmon-admin", False),
        ("identity.session.revoked.v1", "guest", False),
        ("identity.session.revoked.v1", None, False),
        ("identity.session.revoked.v1", "", False),
        # Our own user: our retries and parking.
        ("identity.session.revoked.v1", "bibmon-notifier", True),
    ],
)
def test_a_notifier_accepts_only_the_producer_of_a_type(
    message_type: str, sender: str | None, allowed: bool
) -> None:
    assert sender_allowed(message_type, sender, own_user="bibmon-notifier") is allowed


def test_another_deployments_prefix_names_no_service() -> None:
    assert not sender_allowed("identity.user.erased.v1", "x-identity", own_user="bibmon-notifier")
    assert sender_allowed("identity.user.erased.v1", "t1-identity", own_user="t1-notifier")


def test_development_with_one_user_accepts_everything_from_it() -> None:
    assert sender_allowed("notifier.send_email.v1", "guest", own_user="guest")
    assert not sender_allowed("notifier.send_email.v1", "bibmon-identity", own_user="guest")


def test_only_identity_sends_commands_and_only_the_notifier_consumes_them() -> None:
    assert {"notifier.send_email.v1": frozenset({"identity"})} == COMMAND_SENDERS
    consumers = [s for s, a in SERVICES.items() if "bibmon.commands" in a.consumes]
    assert consumers == ["notifier"]
