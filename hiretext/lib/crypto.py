"""Secrets at rest (carrier auth tokens, API key secrets): Fernet, never stored in clear.

The key comes from HIRETEXT_ENCRYPTION_KEY (one or more Fernet keys, comma-separated: the
first encrypts, all decrypt, so a key can be rotated) or, when unset, is derived from
SECRET_KEY so that a default install needs no extra setting.
"""

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class UndecryptableSecret(Exception):  # noqa: N818 - reads as a verdict
    """The stored secret was encrypted with a key we no longer have: it must be entered again."""


def _derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"hiretext secrets at rest v1"
    )
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


@cache
def _box(configured: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    try:
        fernets = [Fernet(k) for k in keys] if keys else [Fernet(_derived_key(secret_key))]
    except ValueError as exc:
        raise ImproperlyConfigured(
            "HIRETEXT_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded bytes), "
            "comma-separated."
        ) from exc
    return MultiFernet(fernets)


def box() -> MultiFernet:
    return _box(getattr(settings, "HIRETEXT_ENCRYPTION_KEY", "") or "", settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    """Fernet token (ASCII) for `plaintext`; an empty secret stays empty."""
    if not plaintext:
        return ""
    return box().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The plaintext of `token`; UndecryptableSecret if the key changed."""
    if not token:
        return ""
    try:
        return box().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise UndecryptableSecret(
            "A stored secret can no longer be decrypted; enter it again."
        ) from exc
