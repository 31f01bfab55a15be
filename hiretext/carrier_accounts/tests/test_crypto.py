"""Secrets at rest: encrypted, rotatable, and a clear error when the key is gone."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from hiretext.lib.crypto import UndecryptableSecret, decrypt, encrypt


def test_round_trip_without_the_plaintext_in_the_token(settings):
    settings.HIRETEXT_ENCRYPTION_KEY = ""
    token = encrypt("s3cret-value")
    assert "s3cret" not in token
    assert decrypt(token) == "s3cret-value"
    assert encrypt("") == "" and decrypt("") == ""


def test_the_derived_key_follows_secret_key(settings):
    settings.HIRETEXT_ENCRYPTION_KEY = ""
    token = encrypt("x")
    settings.SECRET_KEY = "another-secret-key-entirely"
    with pytest.raises(UndecryptableSecret):
        decrypt(token)


def test_keys_can_be_rotated(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.HIRETEXT_ENCRYPTION_KEY = old
    token = encrypt("x")
    settings.HIRETEXT_ENCRYPTION_KEY = f"{new},{old}"
    assert decrypt(token) == "x"
    settings.HIRETEXT_ENCRYPTION_KEY = new
    with pytest.raises(UndecryptableSecret):
        decrypt(token)


def test_a_malformed_key_is_a_configuration_error(settings):
    settings.HIRETEXT_ENCRYPTION_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured):
        encrypt("x")


def test_garbage_tokens_are_undecryptable(settings):
    settings.HIRETEXT_ENCRYPTION_KEY = ""
    for junk in ("junk", "gAAAAA", "é"):
        with pytest.raises(UndecryptableSecret):
            decrypt(junk)
