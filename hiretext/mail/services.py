"""E-mail in the conversation: accept a send, hand it to the mail server, take replies in.

`send_email` is `messaging.services.send_message` for channel "email": the same
conversation (the sender's number and the person), statuses, timeline and signals as a
text, but free and without SMS consent. `deliver` is the worker's step. `record_reply`
stores an inbound e-mail (from any provider's webhook or the simulator) in the
conversation its reply address or threading headers name, once.
"""

import hashlib
import logging
import smtplib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from hiretext.accounts.models import User
from hiretext.ats import services as ats_services
from hiretext.ats.models import ActivityEntry, Candidate, Contact
from hiretext.lib.errors import DomainError, ValidationFailed
from hiretext.mail import addresses, compose, replies
from hiretext.mail.models import EmailDetails
from hiretext.messaging import signals
from hiretext.messaging.inbound import announce_stored
from hiretext.messaging.models import Conversation, Message
from hiretext.messaging.services import Accepted, conversation_for, sender_number
from hiretext.numbers.models import PhoneNumber

log = logging.getLogger(__name__)

type Person = Candidate | Contact

CARRIER = "email"  # Message.carrier of every e-mail
MAX_SUBJECT = 200
MAX_BODY = 20_000
MAX_SHOWN = 20_000
MAX_FULL_TEXT = 100_000
MAX_HTML = 100_000
MAX_ATTACHMENTS = 50
MAX_HEADERS = 100
MAX_HEADER_VALUE = 2000
MAX_REFERENCES = 20
MAX_ATTEMPTS = 5
SENDABLE_CATEGORIES = (
    Message.Category.GENERAL,
    Message.Category.REJECTION,
    Message.Category.INTERVIEW,
)


# --- checks --------------------------------------------------------------------------------


def one_line(value: str) -> str:
    """Header text: every run of whitespace or control characters becomes one space."""
    cleaned = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in value)
    return " ".join(cleaned.split())


def clean_subject(subject: object) -> str:
    if subject is None:
        subject = ""
    if not isinstance(subject, str):
        raise ValidationFailed("The subject must be text.", {"subject": ["Must be text."]})
    text = one_line(subject)
    if not text:
        raise DomainError("subject_required", "Write a subject before sending an e-mail.")
    if len(text) > MAX_SUBJECT:
        raise DomainError(
            "message_too_long", f"The subject is too long: keep it within {MAX_SUBJECT} characters."
        )
    return text


def clean_body(body: object) -> str:
    if not isinstance(body, str):
        raise ValidationFailed("The message must be text.", {"body": ["Must be text."]})
    text = body.replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise DomainError("body_required", "Write a message before sending.")
    if len(text) > MAX_BODY:
        raise DomainError(
            "message_too_long",
            f"The e-mail is too long ({len(text)} characters). Keep it within {MAX_BODY}.",
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationFailed(
            "The message contains invalid characters.", {"body": ["Invalid characters."]}
        ) from exc
    return text


def email_problem(person: Person) -> DomainError | None:
    """Why `person` cannot be e-mailed, or None."""
    if not person.email:
        return DomainError("no_email_address", f"{person.full_name} has no e-mail address on file.")
    try:
        validate_email(person.email)
    except ValidationError:
        return DomainError(
            "invalid_email_address",
            f"{person.full_name}'s e-mail address is not valid; correct it on their profile.",
        )
    return None


# --- send ----------------------------------------------------------------------------------


def send_email(
    actor: User,
    person: Person,
    subject: object,
    body: object,
    *,
    category: str = Message.Category.GENERAL,
    idempotency_key: str = "",
) -> Accepted:
    """Accept an e-mail to `person` for the worker (the caller checked permission and key).

    It joins the conversation between the actor's number and the person, so replies by
    e-mail or text land in one place and the people on that number see them.
    """
    if category not in SENDABLE_CATEGORIES:
        raise ValidationFailed(
            "category must be general, rejection or interview.", {"category": ["Unknown."]}
        )
    number = sender_number(actor)
    problem = email_problem(person)
    if problem is not None:
        raise problem
    clean = clean_subject(subject)
    text = clean_body(body)
    try:
        with transaction.atomic():
            message = _create_outbound(
                number, person, clean, text, category, actor, idempotency_key
            )
    except IntegrityError:
        if idempotency_key:
            earlier = Message.objects.filter(sender=actor, idempotency_key=idempotency_key).first()
            if earlier is not None:
                from hiretext.messaging.services import _replayed

                return _replayed(earlier, person)
        raise
    return Accepted(message, True)


def _create_outbound(
    number: PhoneNumber,
    person: Person,
    subject: str,
    text: str,
    category: str,
    actor: User,
    idempotency_key: str,
) -> Message:
    conversation = conversation_for(number, person)
    previous = list(
        EmailDetails.objects.filter(message__conversation=conversation)
        .exclude(message_id_header="")
        .order_by("-message__id")
        .values_list("message_id_header", flat=True)[:MAX_REFERENCES]
    )
    previous.reverse()
    message = Message.objects.create(
        organization_id=number.organization_id,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        channel=Message.Channel.EMAIL,
        body=text,
        segments=0,
        encoding="UTF-8",
        status=Message.Status.QUEUED,
        category=category,
        carrier=CARRIER,
        sender=actor,
        idempotency_key=idempotency_key,
    )
    EmailDetails.objects.create(
        message=message,
        subject=subject,
        from_address=compose.from_address(),
        to_address=person.email,
        reply_to=addresses.reply_address(conversation.pk),
        message_id_header=addresses.new_message_id(message.pk),
        in_reply_to=previous[-1] if previous else "",
        references=" ".join(previous),
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now())
    ats_services.log_activity(
        person,
        ActivityEntry.Kind.EMAIL_OUT,
        f"E-mail to {person.email} ({actor.display_name}): {subject}",
        body=text,
        actor=actor,
        ref_id=message.pk,
    )
    # Announced before the worker's statuses (the inbox shows the bubble, then its ticks).
    transaction.on_commit(lambda: signals.message_sent.send(sender=Message, message=message))
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _enqueue(message_id: int) -> None:
    from hiretext.mail.tasks import deliver_email

    deliver_email.enqueue(message_id)


# --- the worker ----------------------------------------------------------------------------


class Outcome:
    DONE = "done"
    RETRY = "retry"


class SendFailure(Exception):
    def __init__(self, code: str, text: str, *, transient: bool) -> None:
        super().__init__(text)
        self.code, self.text, self.transient = code, text, transient


def _classify(exc: Exception) -> SendFailure:
    """Which mail-server errors are worth retrying (4xx, network) and which are final (5xx)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        code = max(codes, default=550)
        return SendFailure(
            f"smtp_{code}",
            f"Not sent: the mail server refused the recipient's address ({code}).",
            transient=code < 500,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        final = 500 <= code < 600 and not isinstance(exc, smtplib.SMTPAuthenticationError)
        return SendFailure(
            f"smtp_{code}", f"Not sent: the mail server answered {code}.", transient=not final
        )
    if isinstance(exc, OSError):  # refused, timed out, disconnected (SMTPServerDisconnected)
        return SendFailure(
            "mail_unavailable", "Not sent: the mail server could not be reached.", transient=True
        )
    if isinstance(exc, ValueError):  # a header the e-mail library refuses
        return SendFailure("invalid_email", f"Not sent: {exc}"[:300], transient=False)
    return SendFailure("mail_error", "Not sent: the e-mail could not be sent.", transient=True)


def deliver(message_id: int) -> str:
    """Hand a queued e-mail to the mail server (the worker's step); `Outcome.RETRY` to retry."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("organization", "sender", "email")
            .filter(pk=message_id, channel=Message.Channel.EMAIL)
            .first()
        )
        if message is None or message.status not in (
            Message.Status.QUEUED,
            Message.Status.SENDING,
        ):
            return Outcome.DONE
        message.attempts += 1
        message.status = Message.Status.SENDING
        message.save(update_fields=["attempts", "status", "updated_at"])
        try:
            email = compose.build(message, message.email)
            email.send(using=settings.HIRETEXT_MAILER)
        except Exception as exc:  # noqa: BLE001 - sorted into retry or final failure
            failure = _classify(exc)
            if failure.transient and message.attempts < MAX_ATTEMPTS:
                log.warning("E-mail %s not sent, will retry: %s", message.pk, exc)
                return Outcome.RETRY
            log.warning("E-mail %s failed: %s", message.pk, exc)
            _fail(message, failure.code, failure.text)
            return Outcome.DONE
        message.status = Message.Status.SENT
        message.sent_at = timezone.now()
        message.save(update_fields=["status", "sent_at", "updated_at"])
        _announce_status(message)
    return Outcome.DONE


def give_up(message_id: int) -> None:
    """Retries exhausted: the e-mail failed (nothing was reserved, nothing to give back)."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .filter(pk=message_id, channel=Message.Channel.EMAIL)
            .first()
        )
        if message is not None and message.status in (
            Message.Status.QUEUED,
            Message.Status.SENDING,
        ):
            _fail(message, "mail_unavailable", "Not sent: the mail server was unavailable.")


def _fail(message: Message, code: str, text: str) -> None:
    message.status = Message.Status.FAILED
    message.error_code = code[:30]
    message.error_message = text[:300]
    message.save(update_fields=["status", "error_code", "error_message", "updated_at"])
    _announce_status(message)


def _announce_status(message: Message) -> None:
    transaction.on_commit(
        lambda: signals.message_status_changed.send(sender=Message, message=message)
    )


# --- replies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundResult:
    """What became of an inbound e-mail: stored, a duplicate of one stored, or rejected."""

    outcome: str  # "stored" | "duplicate" | "rejected"
    message: Message | None = None
    reason: str = ""


@dataclass
class ParsedReply:
    """The parts of an inbound e-mail we keep, already cleaned and capped."""

    sender: str
    recipients: list[str]
    subject: str
    message_id: str
    in_reply_to: str
    references: list[str]
    text: str
    html: str
    headers: list[list[str]]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False


def external_id_for(message_id: str, provider: str, event_id: str, fallback: bytes) -> str:
    """The idempotency key of an inbound e-mail: its Message-ID, else the provider's event."""
    if message_id:
        key = f"mid:{message_id.lower()}"
    elif event_id:
        key = f"event:{provider}:{event_id}"
    else:
        key = "raw:" + hashlib.sha256(fallback).hexdigest()
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def record_reply(parsed: ParsedReply, *, provider: str, event_id: str = "") -> InboundResult:
    """Store a reply in its conversation once; reject what no conversation of ours expects.

    Matched by our signed reply address among the recipients, else by In-Reply-To /
    References naming one of our e-mails; the sender must be the person's address. A
    forged address, an unknown sender or an unmatched e-mail is logged and not stored.
    """
    fallback = f"{parsed.sender}|{parsed.subject}|{parsed.text[:2000]}".encode("utf-8", "replace")
    external_id = external_id_for(parsed.message_id, provider, event_id, fallback)
    earlier = Message.objects.filter(carrier=CARRIER, external_id=external_id).first()
    if earlier is not None:
        return InboundResult("duplicate", earlier)
    try:
        conversation = _conversation_for_reply(parsed)
    except addresses.ForgedAddress:
        return _reject("forged_reply_address", parsed, provider)
    if conversation is None:
        return _reject("no_matching_conversation", parsed, provider)
    person = conversation.person
    if person is None or not person.email or person.email.lower() != parsed.sender.lower():
        return _reject("unknown_sender", parsed, provider)
    try:
        with transaction.atomic():
            message = _store_reply(conversation, person, parsed, external_id, provider, event_id)
            announce_stored(message)
    except IntegrityError:
        earlier = Message.objects.filter(carrier=CARRIER, external_id=external_id).first()
        return InboundResult("duplicate", earlier)
    return InboundResult("stored", message)


def _reject(reason: str, parsed: ParsedReply, provider: str) -> InboundResult:
    log.warning(
        "Inbound e-mail rejected (%s) via %s: from %r to %r, Message-ID %r",
        reason,
        provider,
        parsed.sender[:100],
        [r[:100] for r in parsed.recipients[:5]],
        parsed.message_id[:100],
    )
    return InboundResult("rejected", None, reason)


def _conversation_for_reply(parsed: ParsedReply) -> Conversation | None:
    ids = []
    for recipient in parsed.recipients:
        found = addresses.conversation_from_address(recipient)  # raises ForgedAddress
        if found is not None:
            ids.append(found)
    if ids:
        return (
            Conversation.objects.select_related("candidate", "contact", "number")
            .filter(pk=ids[0])
            .first()
        )
    wanted = [parsed.in_reply_to, *reversed(parsed.references)]
    wanted = [w for w in wanted if w]
    if not wanted:
        return None
    ours = {
        row.message_id_header: row.message.conversation
        for row in EmailDetails.objects.filter(
            message_id_header__in=wanted, message__direction=Message.Direction.OUTBOUND
        ).select_related(
            "message__conversation__candidate",
            "message__conversation__contact",
            "message__conversation__number",
        )
    }
    for wanted_id in wanted:
        if wanted_id in ours:
            return ours[wanted_id]
    return None


def _store_reply(
    conversation: Conversation,
    person: Person,
    parsed: ParsedReply,
    external_id: str,
    provider: str,
    event_id: str,
) -> Message:
    shown = replies.strip_reply(parsed.text) if parsed.text else ""
    truncated = parsed.truncated or len(shown) > MAX_SHOWN or len(parsed.text) > MAX_FULL_TEXT
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        channel=Message.Channel.EMAIL,
        body=shown[:MAX_SHOWN],
        segments=0,
        encoding="UTF-8",
        status=Message.Status.RECEIVED,
        carrier=CARRIER,
        external_id=external_id,
    )
    EmailDetails.objects.create(
        message=message,
        subject=parsed.subject[:300],
        from_address=parsed.sender[:320],
        to_address=(parsed.recipients[0] if parsed.recipients else "")[:320],
        message_id_header=parsed.message_id if len(parsed.message_id) <= 255 else "",
        in_reply_to=parsed.in_reply_to[:255],
        references=" ".join(parsed.references)[:4000],
        full_text=parsed.text[:MAX_FULL_TEXT],
        html=parsed.html[:MAX_HTML],
        headers=parsed.headers,
        attachments=parsed.attachments,
        provider=provider[:30],
        event_id=event_id[:100],
        truncated=truncated,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=timezone.now(), unread=True
    )
    ats_services.log_activity(
        person,
        ActivityEntry.Kind.EMAIL_IN,
        f"E-mail from {parsed.sender}: {parsed.subject}"[:300],
        body=shown[:MAX_SHOWN],
        ref_id=message.pk,
    )
    return message
