"""Sending SMS: the checks, the reservation, the worker's carrier call, status callbacks.

`send_message` checks every precondition with its own code, then writes the message and
its cost reservation in one transaction (allowance first, then credits if the
organisation allows overage) and hands it to the worker after commit. `deliver` is the
worker's step; `record_status` applies carrier callbacks, forward only.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from hiretext.accounts.models import Organization, User
from hiretext.ats import services as ats_services
from hiretext.ats.models import ActivityEntry, Candidate, ConsentEvent, Contact
from hiretext.billing import services as billing
from hiretext.carriers.base import CarrierError, OutboundSms, StatusUpdate
from hiretext.carriers.registry import get_carrier
from hiretext.lib.errors import DomainError, PermissionDenied, ValidationFailed
from hiretext.messaging import segments, signals
from hiretext.messaging.models import Conversation, Message, PhoneOptOut
from hiretext.numbers.allowance import current_period, give_back_allowance, take_allowance
from hiretext.numbers.models import PhoneNumber
from hiretext.numbers.queries import number_for_user

log = logging.getLogger(__name__)

type Person = Candidate | Contact

MAX_SEGMENTS = 10
MAX_CHARACTERS = 1600
MAX_ATTEMPTS = 5
MAX_IDEMPOTENCY_KEY = 200
OPT_OUT_ERROR = "21610"  # Twilio: "Attempt to send to unsubscribed recipient"
SENDABLE_CATEGORIES = (
    Message.Category.GENERAL,
    Message.Category.REJECTION,
    Message.Category.INTERVIEW,
)


# --- checks --------------------------------------------------------------------------------


def clean_body(body: object) -> str:
    """The text to send, trimmed; refuses what no carrier or database could carry."""
    if not isinstance(body, str):
        raise ValidationFailed("The message must be text.", {"body": ["Must be text."]})
    text = body.strip()
    if not text:
        raise DomainError("body_required", "Write a message before sending.")
    if "\x00" in text:
        raise ValidationFailed("The message contains a NUL character.", {"body": ["Invalid."]})
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationFailed(
            "The message contains invalid characters.", {"body": ["Invalid characters."]}
        ) from exc
    return text


def check_length(text: str) -> tuple[int, str, int]:
    count = segments.count(text)
    if len(text) > MAX_CHARACTERS or count[0] > MAX_SEGMENTS:
        raise DomainError(
            "message_too_long",
            f"The message is too long: {count[0]} parts ({count[2]} characters, {count[1]}). "
            f"Keep it within {MAX_SEGMENTS} parts and {MAX_CHARACTERS} characters.",
        )
    return count


def phone_opted_out(org_id: int, phone: str) -> bool:
    return PhoneOptOut.objects.filter(organization_id=org_id, phone=phone).exists()


def textable_problem(person: Person) -> DomainError | None:
    """Why `person` cannot be texted now, or None (DESIGN: Consent)."""
    if not person.mobile:
        return DomainError("no_mobile_number", f"{person.full_name} has no mobile number on file.")
    if person.sms_opted_out or phone_opted_out(person.organization_id, person.mobile):
        return DomainError(
            "opted_out",
            f"{person.full_name} has opted out of text messages (they can text START to opt "
            "back in). Contact them by e-mail or phone.",
        )
    if not person.sms_consent:
        return DomainError(
            "not_opted_in",
            f"{person.full_name} has not agreed to receive text messages. Record their "
            "consent on their profile first.",
        )
    return None


def sender_number(actor: User) -> PhoneNumber:
    number = number_for_user(actor)
    if number is None:
        raise DomainError(
            "no_seat",
            "You are not assigned to a texting number. Ask an administrator to add you to "
            "a seat with a number.",
        )
    return number


# --- send ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    message: Message
    created: bool  # False when an earlier request with the same Idempotency-Key is returned


def send_message(
    actor: User,
    person: Person,
    body: object,
    *,
    category: str = Message.Category.GENERAL,
    channel: str = Message.Channel.SMS,
    idempotency_key: str = "",
    subject: object = None,
) -> Accepted:
    """Accept an SMS (or e-mail) to `person` of the actor's organisation for the worker.

    Every refusal has its own code; acceptance writes the message and reserves its cost
    in one transaction, so parallel sends never overspend the allowance or the credits.
    E-mail (channel "email", `subject` required) is `hiretext.mail.services.send_email`.
    """
    if not actor.has_perm("accounts.recruitment_sms"):
        raise PermissionDenied("You need the “Recruitment - SMS” permission to send texts.")
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed(
            "The Idempotency-Key is too long (200 characters at most).",
            {"idempotency_key": ["200 characters at most."]},
        )
    if idempotency_key:
        earlier = Message.objects.filter(sender=actor, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _replayed(earlier, person)
    if channel == Message.Channel.EMAIL:
        from hiretext.mail.services import send_email

        return send_email(
            actor, person, subject, body, category=category, idempotency_key=idempotency_key
        )
    if channel != Message.Channel.SMS:
        raise ValidationFailed("channel must be “sms” or “email”.", {"channel": ["Unknown."]})
    if category not in Message.Category.values or category == Message.Category.AUTOMATIC:
        raise ValidationFailed(
            "category must be general, rejection or interview.", {"category": ["Unknown."]}
        )
    number = sender_number(actor)
    problem = textable_problem(person)
    if problem is not None:
        raise problem
    if category == Message.Category.REJECTION:
        raise DomainError(
            "sms_not_allowed_for_rejection",
            "Rejections cannot be sent as text messages; send them by e-mail.",
        )
    text = clean_body(body)
    count, encoding, _ = check_length(text)
    try:
        with transaction.atomic():
            message = _create_outbound(
                number, person, text, count, encoding, category, actor, idempotency_key
            )
            _reserve(number, message)
    except IntegrityError:
        # A parallel request with the same key won; answer with its message.
        if idempotency_key:
            earlier = Message.objects.filter(sender=actor, idempotency_key=idempotency_key).first()
            if earlier is not None:
                return _replayed(earlier, person)
        raise
    return Accepted(message, True)


def _replayed(earlier: Message, person: Person) -> Accepted:
    conversation = earlier.conversation
    if conversation.person != person:
        raise DomainError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different message.",
            status=409,
        )
    return Accepted(earlier, False)


def conversation_for(number: PhoneNumber, person: Person) -> Conversation:
    """The conversation between `number` and `person`, created on first use."""
    key = {"candidate": person} if isinstance(person, Candidate) else {"contact": person}
    conversation = Conversation.objects.filter(number=number, **key).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            return Conversation.objects.create(
                organization_id=number.organization_id, number=number, phone=person.mobile, **key
            )
    except IntegrityError:
        return Conversation.objects.get(number=number, **key)


def _create_outbound(
    number: PhoneNumber,
    person: Person,
    text: str,
    count: int,
    encoding: str,
    category: str,
    actor: User | None,
    idempotency_key: str = "",
) -> Message:
    conversation = conversation_for(number, person)
    now = timezone.now()
    message = Message.objects.create(
        organization_id=number.organization_id,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        body=text,
        segments=count,
        encoding=encoding,
        status=Message.Status.QUEUED,
        category=category,
        carrier=number.carrier,
        sender=actor,
        idempotency_key=idempotency_key,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    who = actor.display_name if actor else "automatic reply"
    ats_services.log_activity(
        person,
        ActivityEntry.Kind.SMS_OUT,
        f"SMS to {person.mobile_display} ({who})",
        body=text,
        actor=actor,
        ref_id=message.pk,
    )
    _announce(signals.message_sent, message)  # before the worker's statuses
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _reserve(number: PhoneNumber, message: Message) -> None:
    """Allowance first, then credits if the organisation allows overage (DESIGN: Cost)."""
    units = message.segments
    taken = take_allowance(number, units)
    rest = units - taken
    if rest:
        org = number.organization
        if org.overage_policy != Organization.OveragePolicy.USE_CREDITS:
            raise DomainError(
                "allowance_exhausted",
                f"This number's monthly allowance is used up ({taken} of the {units} parts "
                "this message needs are left). It resets at the start of next month.",
            )
        billing.debit(org, rest, message_id=message.pk)
    Message.objects.filter(pk=message.pk).update(
        allowance_units=taken, allowance_period=current_period(number), credit_units=rest
    )
    message.allowance_units, message.credit_units = taken, rest


def send_automatic_reply(number: PhoneNumber, conversation: Conversation, text: str) -> Message:
    """A STOP/START/HELP answer: sent whatever the consent or allowance, and free."""
    count, encoding, _ = segments.count(text)
    message = Message.objects.create(
        organization_id=number.organization_id,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        body=text,
        segments=count,
        encoding=encoding,
        status=Message.Status.QUEUED,
        category=Message.Category.AUTOMATIC,
        carrier=number.carrier,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now())
    if conversation.person is not None:
        ats_services.log_activity(
            conversation.person,
            ActivityEntry.Kind.SMS_OUT,
            f"Automatic SMS reply to {conversation.phone}",
            body=text,
            ref_id=message.pk,
        )
    _announce(signals.message_sent, message)  # before the worker's statuses
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _announce(signal: Signal, message: Message) -> None:
    """Tell listeners (the inbox's live updates) once the change is committed."""
    transaction.on_commit(lambda: signal.send(sender=Message, message=message))


def _enqueue(message_id: int) -> None:
    from hiretext.messaging.tasks import deliver_message

    deliver_message.enqueue(message_id)


# --- the worker ----------------------------------------------------------------------------


class Outcome:
    DONE = "done"
    RETRY = "retry"


def deliver(message_id: int) -> str:
    """Hand a queued message to its carrier (the worker's step); `Outcome.RETRY` to retry.

    The row stays locked during the carrier call, so a status callback racing the reply
    waits for the carrier's id to be recorded (and the simulator posts after commit).
    """
    with transaction.atomic():
        message = (
            # Lock the message row only: locking the joined number and organisation
            # would serialise every send of the organisation behind one carrier call.
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation__number__organization")
            .filter(pk=message_id, channel=Message.Channel.SMS)
            .first()
        )
        if message is None or message.status not in (
            Message.Status.QUEUED,
            Message.Status.SENDING,
        ):
            return Outcome.DONE
        conversation = message.conversation
        person = conversation.person
        if message.category != Message.Category.AUTOMATIC and (
            (person is not None and person.sms_opted_out)
            or phone_opted_out(message.organization_id, conversation.phone)
        ):
            _fail(message, "opted_out", "Not sent: the recipient opted out before it was sent.")
            return Outcome.DONE
        message.attempts += 1
        message.status = Message.Status.SENDING
        message.save(update_fields=["attempts", "status", "updated_at"])
        number = conversation.number
        sms = OutboundSms(
            from_e164=number.e164,
            to_e164=conversation.phone,
            body=message.body,
            message_id=message.pk,
        )
        try:
            receipt = get_carrier(message.carrier).send(sms)
        except CarrierError as exc:
            if exc.transient and message.attempts < MAX_ATTEMPTS:
                log.warning("Carrier error for message %s, will retry: %s", message.pk, exc)
                return Outcome.RETRY
            _fail(message, exc.code or "carrier_error", _readable(exc))
            if exc.opt_out or exc.code == OPT_OUT_ERROR:
                transaction.on_commit(
                    lambda: opt_out_phone(
                        number.organization,
                        conversation.phone,
                        source=ConsentEvent.Source.CARRIER,
                        wording=f"Carrier error {OPT_OUT_ERROR}: the recipient unsubscribed",
                    )
                )
            return Outcome.DONE
        except Exception:  # noqa: BLE001 - unknown failures are retried, then given up
            log.exception("Unexpected error sending message %s", message.pk)
            if message.attempts < MAX_ATTEMPTS:
                return Outcome.RETRY
            _fail(message, "carrier_error", "Not sent: the carrier could not be reached.")
            return Outcome.DONE
        _advance(message, receipt.status, external_id=receipt.external_id)
    return Outcome.DONE


def give_up(message_id: int) -> None:
    """Retries exhausted (or the worker cannot go on): fail and refund."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is not None and not message.is_final and message.status != Message.Status.SENT:
            _fail(message, "carrier_unavailable", "Not sent: the carrier was unavailable.")


def _readable(exc: CarrierError) -> str:
    if exc.opt_out or exc.code == OPT_OUT_ERROR:
        return "Not sent: the recipient has unsubscribed (they replied STOP to the carrier)."
    if exc.transient:
        return "Not sent: the carrier was unavailable; retries did not succeed."
    return f"Not sent: {exc.message}"[:300]


def _fail(message: Message, code: str, text: str) -> None:
    """Mark failed and give back what was reserved (the carrier never accepted it)."""
    message.status = Message.Status.FAILED
    message.error_code = code[:30]
    message.error_message = text[:300]
    message.save(update_fields=["status", "error_code", "error_message", "updated_at"])
    _announce(signals.message_status_changed, message)
    number = message.conversation.number
    if message.allowance_units and message.allowance_period:
        give_back_allowance(number, message.allowance_units, message.allowance_period)
    if message.credit_units:
        billing.refund(number.organization, message.credit_units, message_id=message.pk)


def _advance(
    message: Message,
    status: str,
    *,
    external_id: str = "",
    error_code: str = "",
    error_message: str = "",
    at: datetime | None = None,
) -> bool:
    """Move `message` forward to `status` (never back); True if anything changed."""
    fields = []
    if external_id and not message.external_id:
        message.external_id = external_id[:64]
        fields.append("external_id")
    if Message.Status.rank(status) > Message.Status.rank(message.status):
        message.status = status
        fields.append("status")
        now = at or timezone.now()
        if message.sent_at is None and status != Message.Status.SENDING:
            message.sent_at = now
            fields.append("sent_at")
        if status == Message.Status.DELIVERED:
            message.delivered_at = now
            fields.append("delivered_at")
        if status in (Message.Status.UNDELIVERED, Message.Status.FAILED):
            message.error_code = error_code[:30]
            message.error_message = (error_message or _status_text(status, error_code))[:300]
            fields += ["error_code", "error_message"]
    if fields:
        message.save(update_fields=[*fields, "updated_at"])
    if "status" in fields:
        _announce(signals.message_status_changed, message)
    return bool(fields)


def _status_text(status: str, code: str) -> str:
    what = "Not delivered" if status == Message.Status.UNDELIVERED else "Failed"
    return f"{what} by the carrier" + (f" (error {code})." if code else ".")


def record_status(carrier: str, update: StatusUpdate) -> Message | None:
    """Apply a carrier's status callback; unknown ids and backward moves change nothing."""
    if update.status not in Message.Status.values or update.status == Message.Status.RECEIVED:
        return None
    with transaction.atomic():
        message = (
            # Lock the message row only: locking the joined number and organisation
            # would serialise every send of the organisation behind one carrier call.
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation__number__organization")
            .filter(carrier=carrier, external_id=update.external_id)
            .first()
        )
        if message is None or not message.is_outbound:
            return None
        _advance(
            message,
            update.status,
            error_code=update.error_code,
            error_message=update.error_message,
        )
    if update.opt_out or update.error_code == OPT_OUT_ERROR:
        opt_out_phone(
            message.conversation.number.organization,
            message.conversation.phone,
            source=ConsentEvent.Source.CARRIER,
            wording=f"Carrier error {OPT_OUT_ERROR}: the recipient unsubscribed",
        )
    return message


def mark_read(conversation: Conversation, user: User | None = None) -> bool:
    """Opened by a user on its number: read for everyone on it (DESIGN: unread is shared)."""
    changed = bool(
        Conversation.objects.filter(pk=conversation.pk, unread=True).update(unread=False)
    )
    if changed:
        transaction.on_commit(
            lambda: signals.conversation_read.send(
                sender=Conversation, conversation=conversation, user=user
            )
        )
    return changed


# --- consent by phone ----------------------------------------------------------------------


def people_with_phone(org_id: int, phone: str) -> list[Person]:
    people: list[Person] = list(
        Candidate.objects.filter(organization_id=org_id, mobile=phone).order_by("id")
    )
    people += list(Contact.objects.filter(organization_id=org_id, mobile=phone).order_by("id"))
    return people


def opt_out_phone(org: Organization, phone: str, *, source: str, wording: str = "") -> bool:
    """Stop texts to `phone` from every number of the organisation; True if it changed.

    Everyone with that mobile is opted out (an audited consent event each); the phone
    itself is remembered too, for records created later.
    """
    changed = False
    with transaction.atomic():
        _, created = PhoneOptOut.objects.get_or_create(
            organization=org, phone=phone, defaults={"wording": wording[:500]}
        )
        changed |= created
        for person in people_with_phone(org.pk, phone):
            if not person.sms_opted_out:
                ats_services.set_consent(person, False, source=source, wording=wording)
                changed = True
    return changed


def opt_in_phone(org: Organization, phone: str, *, source: str, wording: str = "") -> bool:
    """The phone texted START: texts are welcome again; True if anything changed."""
    changed = False
    with transaction.atomic():
        deleted, _ = PhoneOptOut.objects.filter(organization=org, phone=phone).delete()
        changed |= bool(deleted)
        for person in people_with_phone(org.pk, phone):
            if person.sms_opted_out or not person.sms_consent:
                ats_services.set_consent(person, True, source=source, wording=wording)
                changed = True
    return changed
