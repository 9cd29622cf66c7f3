from bibmon_identity.domain.users import (
    derive_username,
    min_password_length,
    normalise_email,
    requires_mfa,
    valid_username,
)


def test_kb_admin_and_researcher_must_use_totp():
    assert requires_mfa({"kb_admin"})
    assert requires_mfa({"researcher"})
    assert not requires_mfa({"library_staff"})


def test_min_length_depends_on_second_factor():
    assert min_password_length(has_totp=False, roles={"library_staff"}) == 15
    assert min_password_length(has_totp=True, roles={"library_staff"}) == 12
    assert min_password_length(has_totp=False, roles={"kb_admin"}) == 12


def test_malformed_email_is_refused():
    assert normalise_email("not-an-address") is None
    assert normalise_email("a@b") is None
    assert normalise_email("Jan@Example.NL") == "Jan@example.nl"


def test_username_is_derived_from_email():
    assert derive_username("Jan de Vries", "J.de.Vries@bieb.nl") == "j.de.vries"
    assert valid_username(derive_username("Ö", "ö@x.nl"))
