import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from bibmon_common.settings import ServiceSettings


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BIBMON_DEMO_SVC_")
    api_key: SecretStr = SecretStr("changethis")


def test_placeholder_secret_is_refused_in_production(monkeypatch):
    monkeypatch.setenv("BIBMON_DEMO_SVC_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="api_key"):
        DemoSettings()


def test_real_secrets_are_accepted_in_production(monkeypatch):
    monkeypatch.setenv("BIBMON_DEMO_SVC_ENVIRONMENT", "production")
    monkeypatch.setenv("BIBMON_DEMO_SVC_API_KEY", "x" * 40)
    monkeypatch.setenv("BIBMON_DEMO_SVC_SERVICE_TOKEN_SECRET", "y" * 40)
    assert DemoSettings().environment == "production"


def test_placeholders_are_fine_in_development(monkeypatch):
    monkeypatch.setenv("BIBMON_DEMO_SVC_ENVIRONMENT", "development")
    assert DemoSettings().api_key.get_secret_value() == "changethis"


def test_env_prefix_selects_the_service(monkeypatch):
    monkeypatch.setenv("BIBMON_DEMO_SVC_DATABASE_URL", "postgresql://x@h/db")
    assert DemoSettings().database_url == "postgresql://x@h/db"


@pytest.mark.parametrize(
    "url", ["http://bibliotheekmonitor.kb.nl", "ftp://bibliotheekmonitor.kb.nl", "bibmon.kb.nl"]
)
def test_public_url_without_tls_is_refused_in_production(monkeypatch, url):
    monkeypatch.setenv("BIBMON_DEMO_SVC_ENVIRONMENT", "production")
    monkeypatch.setenv("BIBMON_DEMO_SVC_API_KEY", "x" * 40)
    monkeypatch.setenv("BIBMON_DEMO_SVC_SERVICE_TOKEN_SECRET", "y" * 40)
    monkeypatch.setenv("BIBMON_DEMO_SVC_PUBLIC_BASE_URL", url)
    with pytest.raises(ValidationError, match="public_base_url must be https://"):
        DemoSettings()


@pytest.mark.parametrize(
    "url", ["https://bibliotheekmonitor.kb.nl", "http://localhost:8080", "http://127.0.0.1:8080"]
)
def test_https_or_a_loopback_public_url_is_accepted_in_production(monkeypatch, url):
    monkeypatch.setenv("BIBMON_DEMO_SVC_ENVIRONMENT", "production")
    monkeypatch.setenv("BIBMON_DEMO_SVC_API_KEY", "x" * 40)
    monkeypatch.setenv("BIBMON_DEMO_SVC_SERVICE_TOKEN_SECRET", "y" * 40)
    monkeypatch.setenv("BIBMON_DEMO_SVC_PUBLIC_BASE_URL", url)
    assert DemoSettings().public_base_url == url


def test_plain_http_public_url_is_fine_in_development(monkeypatch):
    monkeypatch.setenv("BIBMON_DEMO_SVC_PUBLIC_BASE_URL", "http://bibmon.test")
    assert DemoSettings().public_base_url == "http://bibmon.test"
