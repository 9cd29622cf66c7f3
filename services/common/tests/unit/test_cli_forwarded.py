"""Which addresses a service believes X-Forwarded-For from (issue 10, item 1)."""

from __future__ import annotations

import pytest

from bibmon_common.cli import forwarded_allow_ips


def test_production_without_an_explicit_setting_refuses_to_start():
    with pytest.raises(SystemExit, match="FORWARDED_ALLOW_IPS is not set"):
        forwarded_allow_ips("production", {})


def test_production_refuses_trusting_everyone():
    with pytest.raises(SystemExit, match="any caller"):
        forwarded_allow_ips("production", {"FORWARDED_ALLOW_IPS": "10.0.0.0/8, *"})


def test_production_takes_the_stated_networks():
    env = {"FORWARDED_ALLOW_IPS": "172.28.10.0/24"}
    assert forwarded_allow_ips("production", env) == "172.28.10.0/24"


def test_development_defaults_to_the_local_gateway():
    assert forwarded_allow_ips("development", {}) == "127.0.0.1"
