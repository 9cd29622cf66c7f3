"""The secret the notifier signs identity's recipient look-up with (identity and notifier only)."""

from __future__ import annotations

import pytest

from bibmon_identity.config import DEVELOPMENT_RECIPIENT_TOKEN_SECRET
from bibmon_notifier.config import NotifierSettings

REAL = "k3Q9vXo1-real-random-value-from-generate-py"


def test_development_default_matches_identity_and_production_refuses_it() -> None:
    settings = NotifierSettings()

    # A bare development setup (no secrets configured) still pairs with identity ...
    assert settings.identity_token_secret.get_secret_value() == DEVELOPMENT_RECIPIENT_TOKEN_SECRET
    # ... and production refuses that value like the other placeholders.
    with pytest.raises(ValueError, match="identity_token_secret"):
        NotifierSettings(environment="production", service_token_secret="another-real-value")
    production = NotifierSettings(
        environment="production",
        service_token_secret="another-real-value",
        identity_token_secret=REAL,
    )
    assert production.identity_token_secret.get_secret_value() == REAL


def test_identity_token_secret_is_read_from_its_secret_file(tmp_path) -> None:
    # docker-compose and Kubernetes mount /run/secrets/<env var name in lower case>.
    (tmp_path / "bibmon_notifier_identity_token_secret").write_text(REAL)

    settings = NotifierSettings(_secrets_dir=tmp_path)  # type: ignore[call-arg]

    assert settings.identity_token_secret.get_secret_value() == REAL
