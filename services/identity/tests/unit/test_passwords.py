import asyncio

import pytest

from bibmon_identity.domain.passwords import (
    MAX_BYTES,
    PasswordHashing,
    check_password,
    common_passwords,
    context_words,
)


def problem(password, min_length=15, context=None):
    found = check_password(password, min_length=min_length, context=context)
    return found.code if found else None


def test_ships_at_least_3000_common_passwords():
    assert len(common_passwords()) >= 3000
    assert "welkom" in common_passwords()
    assert "password" in common_passwords()


def test_refuses_short_password_for_single_factor():
    assert problem("kort-maar-fijn") == "too_short"  # 14 chars


def test_accepts_12_characters_with_totp():
    assert problem("zeven-ruw-57", min_length=12) is None


def test_accepts_long_passphrase_without_composition_rules():
    assert problem("de koe springt over de maan") is None
    assert problem("x" * 10 + "qjwkeplrmsd" + "z" * 5 + " hoi" * 50) is None


def test_accepts_64_characters_and_refuses_more_than_256_bytes():
    assert problem("Tr0ub4dor&3 is geen goed idee, zegt xkcd, maar deze zin wel!!!!") is None
    assert problem("é" * 129) == "too_long"  # 258 bytes
    assert len(("é" * 128).encode()) == MAX_BYTES


def test_refuses_common_password_padded_with_digits_and_symbols():
    assert problem("password1234567!") == "common"
    assert problem("Wachtwoord123456789") == "common"
    assert problem("Welkom!!!!!!!!!!!!!") == "common"


def test_refuses_repetition_and_sequences():
    assert problem("aaaaaaaaaaaaaaaa") == "predictable"
    assert problem("abcabcabcabcabcabc") == "predictable"
    assert problem("1234567890123456") in {"predictable", "common"}
    assert problem("qwertyuiopasdfghj") in {"predictable", "common"}
    assert problem("ghijklmnopqrstuvw") == "predictable"


def test_refuses_context_words():
    words = context_words("jdevries", "Jan de Vries", "Bibliotheek Rotterdam", "jan@example.nl")
    assert problem("Bibliotheek2024!!!!", context=words) in {"common", "context"}
    assert problem("jdevriesrotterdam1", context=words) == "context"
    assert problem("Jan de Vries 2026 !!", context=words) == "context"
    assert problem("KB-bibliotheek-2025", context=words) == "context"
    assert problem("vier paarden in de wei", context=words) is None


def test_hash_verifies_and_detects_wrong_password():
    hashing = PasswordHashing(time_cost=1, memory_cost=8, parallelism=1)

    async def run():
        stored = await hashing.hash("een lange zin als wachtwoord")
        assert await hashing.verify(stored, "een lange zin als wachtwoord")
        assert not await hashing.verify(stored, "een lange zin als wachtwoorD")
        assert not await hashing.verify(None, "een lange zin als wachtwoord")
        assert hashing.needs_rehash(stored) is False
        stronger = PasswordHashing(time_cost=2, memory_cost=8, parallelism=1)
        assert stronger.needs_rehash(stored) is True

    asyncio.run(run())


@pytest.mark.parametrize("composed", ["\u00e9", "e\u0301"])
def test_unicode_forms_verify_alike(composed):
    hashing = PasswordHashing(time_cost=1, memory_cost=8, parallelism=1)

    async def run():
        stored = await hashing.hash("caf\u00e9 op de hoek van de straat")
        assert await hashing.verify(stored, f"caf{composed} op de hoek van de straat")

    asyncio.run(run())
