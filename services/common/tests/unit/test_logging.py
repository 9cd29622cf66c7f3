import json
import logging

import structlog

from bibmon_common.logging import REDACTED, configure_logging, redact_sensitive


def test_sensitive_keys_are_redacted():
    event = redact_sensitive(
        None,
        "info",
        {"event": "login.failed", "password": "hunter2", "refresh_token": "abc", "user_id": "u1"},
    )
    assert event["password"] == REDACTED
    assert event["refresh_token"] == REDACTED
    assert event["user_id"] == "u1"


def test_email_addresses_are_scrubbed_from_messages_and_nested_values():
    event = redact_sensitive(
        None,
        "info",
        {"event": "mail to jan@bieb.nl failed", "detail": {"to": ["piet@example.org"], "n": 1}},
    )
    assert "jan@bieb.nl" not in event["event"]
    assert event["detail"] == {"to": [REDACTED], "n": 1}


def test_stdlib_and_structlog_lines_are_json_without_secrets(capsys):
    configure_logging("test", "INFO", json=True)
    structlog.get_logger("t").info("user.logged_in", token="secret-value", user_id="u1")
    logging.getLogger("uvicorn.error").info("mail for a@b.nl")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert lines[0]["event"] == "user.logged_in"
    assert lines[0]["token"] == REDACTED
    assert lines[0]["service"] == "test"
    assert "a@b.nl" not in lines[1]["event"]


def test_ids_named_after_sensitive_things_are_kept():
    event = redact_sensitive(
        None, "info", {"event": "email.sent", "email_id": "e1", "token_id": "t"}
    )
    assert event["email_id"] == "e1"
    assert event["token_id"] == "t"


def test_configuring_again_keeps_cached_loggers_reachable() -> None:
    import structlog
    from structlog.testing import capture_logs

    from bibmon_common.logging import configure_logging

    configure_logging("first")
    log = structlog.get_logger("bibmon.test.cached")
    log.info("warm.up")  # the logger caches the processor list now
    configure_logging("second")  # a second app in the same process
    with capture_logs() as captured:
        log.info("after.reconfigure", survey_id="s-1")
    assert [e["event"] for e in captured] == ["after.reconfigure"]
