from bibmon_identity.domain import totp
from bibmon_identity.domain.crypto import DataCipher, new_data_key
from bibmon_identity.domain.tokens import (
    hash_recovery_code,
    hash_token,
    looks_like_recovery_code,
    new_recovery_codes,
    new_token,
)

NOW = 1_800_000_000.0


def test_secret_has_160_bits():
    assert len(totp.new_secret()) == 32  # 32 base32 characters = 160 bits


def test_accepts_current_and_adjacent_step():
    secret = totp.new_secret()
    step = int(NOW // 30)
    assert totp.verify(secret, totp.code_at(secret, NOW), last_step=None, now=NOW) == step
    assert totp.verify(secret, totp.code_at(secret, NOW - 30), last_step=None, now=NOW) == step - 1
    assert totp.verify(secret, totp.code_at(secret, NOW + 30), last_step=None, now=NOW) == step + 1


def test_refuses_code_two_steps_old():
    secret = totp.new_secret()
    assert totp.verify(secret, totp.code_at(secret, NOW - 60), last_step=None, now=NOW) is None


def test_refuses_reuse_of_an_accepted_step():
    secret = totp.new_secret()
    code = totp.code_at(secret, NOW)
    step = totp.verify(secret, code, last_step=None, now=NOW)
    assert step is not None
    assert totp.verify(secret, code, last_step=step, now=NOW) is None
    assert totp.verify(secret, code, last_step=step, now=NOW + 20) is None


def test_refuses_malformed_codes():
    secret = totp.new_secret()
    for code in ["", "12345", "1234567", "abcdef"]:
        assert totp.verify(secret, code, last_step=None, now=NOW) is None


def test_provisioning_uri_and_qr():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "admin")
    assert uri.startswith("otpauth://totp/Bibliotheekmonitor:admin?")
    assert "<svg" in totp.qr_svg(uri)


def test_token_is_256_bits_and_stored_as_sha256():
    token = new_token()
    assert len(token) >= 43
    assert len(hash_token(token)) == 32
    assert hash_token(token) == hash_token(token)
    assert new_token() != token


def test_recovery_codes_are_unique_and_normalised():
    codes = new_recovery_codes()
    assert len(set(codes)) == 10
    code = codes[0]
    assert looks_like_recovery_code(code)
    assert not looks_like_recovery_code("123456")
    assert hash_recovery_code(code.lower().replace("-", " ")) == hash_recovery_code(code)


def test_data_cipher_binds_ciphertext_to_its_row():
    import pytest
    from cryptography.exceptions import InvalidTag

    cipher = DataCipher.from_base64(new_data_key())
    blob = cipher.encrypt(b"secret", b"user-1")
    assert cipher.decrypt(blob, b"user-1") == b"secret"
    with pytest.raises(InvalidTag):
        cipher.decrypt(blob, b"user-2")
