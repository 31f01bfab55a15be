"""An inbound e-mail (anymail's parsed message) turned into the parts we keep.

Everything here is hostile input: headers may be malformed, charsets unknown, parts
endless. Nothing raises; what cannot be read is left out and what is too long is cut.
"""

import logging
from email.message import Message as MimeMessage
from email.utils import getaddresses
from typing import Any

from hiretext.mail import addresses, replies
from hiretext.mail.services import (
    MAX_ATTACHMENTS,
    MAX_FULL_TEXT,
    MAX_HEADER_VALUE,
    MAX_HEADERS,
    MAX_HTML,
    ParsedReply,
    one_line,
)

log = logging.getLogger(__name__)

MAX_PARTS = 500
MAX_FILENAME = 200
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


def header(message: MimeMessage, name: str) -> str:
    """A header's decoded value, or "" if missing or unreadable."""
    try:
        value = message.get(name)
        return "" if value is None else str(value)
    except Exception:  # noqa: BLE001 - a malformed header is as good as none
        return ""


def header_all(message: MimeMessage, name: str) -> list[str]:
    try:
        return [str(v) for v in (message.get_all(name) or [])][:20]
    except Exception:  # noqa: BLE001
        return []


def addresses_in(values: list[str]) -> list[str]:
    """The addr-specs in address headers, lower-cased, unreadable ones skipped."""
    found = []
    for _, addr in getaddresses([v.replace("\x00", "") for v in values if v]):
        addr = addr.strip().lower()
        if "@" in addr and len(addr) <= 320 and not any(c.isspace() for c in addr):
            found.append(addr)
    return found


def _decoded(part: MimeMessage) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def _parts(message: MimeMessage) -> list[MimeMessage]:
    parts: list[MimeMessage] = []
    try:
        for i, part in enumerate(message.walk()):
            if i >= MAX_PARTS:
                break
            parts.append(part)
    except RecursionError:  # absurdly nested parts: keep what was reached
        log.warning("Inbound e-mail nested too deeply; %s parts read", len(parts))
    return parts


def _is_attachment(part: MimeMessage) -> bool:
    disposition = part.get_content_disposition()
    if disposition == "attachment":
        return True
    return disposition == "inline" and bool(part.get_filename())


def body_text(message: MimeMessage, content_type: str) -> str:
    for part in _parts(message):
        if part.is_multipart() or _is_attachment(part):
            continue
        if part.get_content_type() == content_type:
            try:
                return _decoded(part)
            except Exception:  # noqa: BLE001 - a broken part: try the next one
                log.info("Unreadable %s part in an inbound e-mail", content_type)
    return ""


def attachment_list(message: MimeMessage) -> list[dict[str, Any]]:
    """Names, sizes and types of the attached files (their content is not kept)."""
    found: list[dict[str, Any]] = []
    for part in _parts(message):
        if len(found) >= MAX_ATTACHMENTS:
            break
        if part.is_multipart() or not _is_attachment(part):
            continue
        try:
            name = part.get_filename() or ""
        except Exception:  # noqa: BLE001
            name = ""
        try:
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
        except Exception:  # noqa: BLE001
            size = 0
        found.append(
            {
                "name": one_line(str(name))[:MAX_FILENAME] or "(unnamed)",
                "size": size,
                "type": one_line(part.get_content_type())[:100],
            }
        )
    return found


def header_list(message: MimeMessage) -> list[list[str]]:
    kept: list[list[str]] = []
    try:
        keys = list(message.keys())[:MAX_HEADERS]
    except Exception:  # noqa: BLE001
        return kept
    seen: dict[str, int] = {}
    for key in keys:
        index = seen.get(key.lower(), 0)
        seen[key.lower()] = index + 1
        values = header_all(message, key)
        value = values[index] if index < len(values) else ""
        kept.append([one_line(key)[:100], value.replace("\x00", "")[:MAX_HEADER_VALUE]])
    return kept


def parse(message: MimeMessage, envelope_recipient: str | None = None) -> ParsedReply:
    """The reply's sender, recipients, threading headers, text and attachment list."""
    senders = addresses_in(header_all(message, "From"))
    recipients = addresses_in([envelope_recipient or ""])
    for name in RECIPIENT_HEADERS:
        recipients += [a for a in addresses_in(header_all(message, name)) if a not in recipients]
    text = body_text(message, "text/plain")
    html = body_text(message, "text/html")
    if not text.strip() and html:
        text = replies.html_to_text(html[: MAX_HTML * 2])
    text = text.replace("\x00", "").replace("\r\n", "\n")
    html = html.replace("\x00", "")
    own_id = addresses.message_ids(header(message, "Message-ID"))
    in_reply_to = addresses.message_ids(header(message, "In-Reply-To"))
    return ParsedReply(
        sender=senders[0] if senders else "",
        recipients=recipients[:20],
        subject=one_line(header(message, "Subject"))[:300],
        message_id=own_id[0] if own_id else "",
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=addresses.message_ids(header(message, "References")),
        text=text,
        html=html,
        headers=header_list(message),
        attachments=attachment_list(message),
        truncated=len(text) > MAX_FULL_TEXT or len(html) > MAX_HTML,
    )
