"""The published event documentation matches the contracts, and events carry no personal data."""

import importlib.util
import json
from pathlib import Path

from bibmon_common.contracts import all_messages
from bibmon_common.events import EXPORTS_EXCHANGE, Command, Event, Export

ROOT = Path(__file__).resolve().parents[2]
PERSONAL_FIELDS = {"email", "recipient_email", "recipient_name", "username", "full_name", "phone"}


def load_generator():
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "generate_schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_asyncapi_and_schemas_are_up_to_date():
    for rel, text in load_generator().build().items():
        path = ROOT / "docs" / "events" / rel
        assert path.exists(), f"{rel} missing: run `make schemas`"
        assert path.read_text() == text, f"{rel} is stale: run `make schemas`"


def test_every_message_is_documented_in_asyncapi():
    doc = json.loads((ROOT / "docs/events/asyncapi.json").read_text())
    documented = {m["name"] for m in doc["components"]["messages"].values()}
    assert documented == {cls.type for cls in all_messages()}


def test_events_carry_no_personal_data():
    for cls in all_messages():
        fields = set(cls.model_fields)
        if issubclass(cls, Event | Export):
            assert not fields & PERSONAL_FIELDS, f"{cls.type} carries {fields & PERSONAL_FIELDS}"
        else:
            assert issubclass(cls, Command)
            assert cls.type.startswith("notifier."), "only the notifier takes commands with PII"


def test_event_types_are_versioned_past_tense_facts():
    for cls in all_messages():
        assert cls.type.rsplit(".", 1)[-1].startswith("v"), cls.type
        # events: <service>.<aggregate>.<fact>.vN; commands: <service>.<verb_object>.vN
        assert cls.type.count(".") == (3 if issubclass(cls, Event | Export) else 2), cls.type


def test_exports_are_documented_on_the_exports_exchange():
    doc = json.loads((ROOT / "docs/events/asyncapi.json").read_text())
    exports = [cls for cls in all_messages() if issubclass(cls, Export)]
    assert "reporting.dataset.published.v1" in {cls.type for cls in exports}
    for cls in exports:
        channel = doc["channels"][cls.type.replace(".", "_")]
        assert channel["bindings"]["amqp"]["exchange"]["name"] == EXPORTS_EXCHANGE
        assert "kb-export" in channel["description"]
