"""Demo surveys never in production: they would invite every real library."""

from __future__ import annotations

import pytest

from bibmon_surveys.config import SurveysSettings


def test_production_refuses_demo_surveys() -> None:
    secret = "a-real-random-service-token-secret"
    with pytest.raises(ValueError, match="load_demo_data is refused in production"):
        SurveysSettings(environment="production", service_token_secret=secret, load_demo_data=True)
    production = SurveysSettings(environment="production", service_token_secret=secret)
    assert production.demo_enabled is False
    assert SurveysSettings(environment="development").demo_enabled is True
    assert SurveysSettings(environment="development", load_demo_data=False).demo_enabled is False
