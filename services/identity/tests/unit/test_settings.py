"""The recipient secret: read like the other secrets, refused in production when a default."""

from __future__ import annotations

import base64

import pytest

from bibmon_identity.config import IdentitySettings

REAL = "k3Q9vXo1-real-random-value-from-generate-py"


def _production(**kwargs: object) -> IdentitySettings:
    values: dict[str, object] = {
        "environment": "production",
        "data_key": base64.b64encode(bytes(range(32))).decode(),
        "service_token_secret": "another-real-random-value",
        "recipient_token_secret": REAL,
    }
    values.update(kwargs)
    return IdentitySettings(**values)  # type: ignore[arg-type]


def test_production_refuses_the_development_recipient_secret() -> None:
    assert "development" in IdentitySettings().recipient_token_secret.get_secret_value()
    with pytest.raises(ValueError, match="recipient_token_secret"):
        _production(recipient_token_secret=IdentitySettings().recipient_token_secret)
    with pytest.raises(ValueError, match="recipient_token_secret"):
        _production(recipient_token_secret="changeme")

    assert _production().recipient_token_secret.get_secret_value() == REAL


def test_recipient_secret_is_read_from_its_secret_file_or_env(tmp_path, monkeypatch) -> None:
    # docker-compose and Kubernetes mount /run/secrets/<env var name in lower case>.
    (tmp_path / "bibmon_identity_recipient_token_secret").write_text(REAL)
    from_file = IdentitySettings(_secrets_dir=tmp_path)  # type: ignore[call-arg]
    monkeypatch.setenv("BIBMON_IDENTITY_RECIPIENT_TOKEN_SECRET", "from-the-environment")
    from_env = IdentitySettings()

    assert from_file.recipient_token_secret.get_secret_value() == REAL
    assert from_env.recipient_token_secret.get_secret_value() == "from-the-environment"
    # Not the secret every service holds.
    assert from_file.recipient_token_secret != from_file.service_token_secret


def test_production_refuses_demo_users() -> None:
    with pytest.raises(ValueError, match="load_demo_data is refused in production"):
        _production(load_demo_data=True)
    assert _production().demo_enabled is False
    assert IdentitySettings(environment="development").demo_enabled is True
