"""Settings of the responses service: demo data never loads in production."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from bibmon_responses.config import ResponsesSettings

# A secret that passes the kernel's production check, so only the demo setting is at stake.
SECRET = SecretStr("a-long-random-production-token-secret-4f9c2e")


def test_demo_data_is_refused_in_production():
    with pytest.raises(ValidationError, match="load_demo_data is refused in production"):
        ResponsesSettings(
            environment="production", service_token_secret=SECRET, load_demo_data=True
        )


def test_production_without_demo_data_is_fine():
    for value in (None, False):
        settings = ResponsesSettings(
            environment="production", service_token_secret=SECRET, load_demo_data=value
        )
        assert not settings.demo_enabled


def test_demo_data_may_be_switched_on_outside_production():
    assert ResponsesSettings(environment="test", load_demo_data=True).demo_enabled
    assert ResponsesSettings(environment="development").demo_enabled
