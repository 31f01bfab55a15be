"""Reply addresses and Message-IDs: how a reply finds its conversation again.

Each conversation has its own reply address, `reply+<id>.<signature>@HIRETEXT_REPLY_DOMAIN`,
signed with django.core.signing (SECRET_KEY, rotated through SECRET_KEY_FALLBACKS). The
signature is lower-case hex because some mail systems change the case of local parts.
"""

import re
from email.headerregistry import Address
from email.utils import make_msgid

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

REPLY_PREFIX = "reply+"
SIGNATURE_LENGTH = 32  # hex characters: 128 bits
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")


class ReplySigner(signing.Signer):
    """A Signer whose signatures survive case-folding (hex instead of base64)."""

    def signature(self, value: str | bytes, key: str | bytes | None = None) -> str:
        key = key or self.key
        salt = self.salt.decode() if isinstance(self.salt, bytes) else self.salt
        digest = salted_hmac(salt + "signer", value, key, algorithm=self.algorithm)
        return digest.hexdigest()[:SIGNATURE_LENGTH]


def _signer() -> ReplySigner:
    return ReplySigner(sep=".", salt="hiretext.mail.reply-address")


def reply_domain() -> str:
    return str(settings.HIRETEXT_REPLY_DOMAIN).strip().lower()


def reply_address(conversation_id: int) -> str:
    """The address replies to this conversation are sent to."""
    return f"{REPLY_PREFIX}{_signer().sign(str(conversation_id))}@{reply_domain()}"


class ForgedAddress(Exception):  # noqa: N818 - reads as a verdict
    """A reply address on our domain whose signature does not check out."""


def conversation_from_address(address: str) -> int | None:
    """The conversation id in one of our reply addresses; None for any other address.

    Raises ForgedAddress when the address looks like ours but its signature is wrong.
    """
    local, _, domain = address.strip().lower().rpartition("@")
    if domain != reply_domain() or not local.startswith(REPLY_PREFIX):
        return None
    token = local[len(REPLY_PREFIX) :]
    try:
        value = _signer().unsign(token)
    except signing.BadSignature as exc:
        raise ForgedAddress(address[:100]) from exc
    if not value.isdigit() or len(value) > 18:
        raise ForgedAddress(address[:100])
    return int(value)


def new_message_id(message_pk: int) -> str:
    """A fresh Message-ID for one of our e-mails, e.g. <…m42@reply.example.com>."""
    return make_msgid(idstring=f"m{message_pk}", domain=reply_domain())


def message_ids(value: str | None) -> list[str]:
    """The Message-IDs in an In-Reply-To or References header, in order."""
    if not value:
        return []
    return MESSAGE_ID.findall(str(value))[:50]


def formatted(display_name: str, address: str) -> str:
    """`"Name" <address>`, quoted as needed; line breaks in names cannot reach headers."""
    name = " ".join(display_name.split())[:100]
    username, _, domain = address.rpartition("@")
    return str(Address(display_name=name, username=username, domain=domain))
