"""Sending SMS: the checks, the reservation, the worker's carrier call, status callbacks.

`send_message` checks every precondition with its own code, then writes the message and
its cost reservation in one transaction (allowance first, then credits if the
organisation allows overage) and hands it to the worker after commit. `deliver` is the
worker's step; `record_status` applies carrier callbacks, forward only.
"""

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from hiretext.accounts.models import Organization, User
from hiretext.ats import services as ats_services
from hiretext.ats.models import ActivityEntry, Candidate, ConsentEvent, Contact
from hiretext.billing import services as billing
from hiretext.carriers.base import CarrierError, OutboundSms, StatusUpdate, is_reference
from hiretext.carriers.registry import get_carrier
from hiretext.lib import loaded, prepared, rows
from hiretext.lib.errors import DomainError, PermissionDenied, ValidationFailed
from hiretext.messaging import segments, signals
from hiretext.messaging.models import Conversation, Message, PhoneOptOut
from hiretext.numbers.allowance import give_back_allowance, period_in, take_rest, take_whole
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
    """Whether `phone` texted STOP to the organisation (every conversation page asks: one
    prepared SELECT on the opt-out's unique key, not an ORM query built each time)."""
    return prepared.fetchone(_opted_out_sql(), [org_id, phone]) is not None


@cache
def _opted_out_sql() -> str:
    table = connection.ops.quote_name(PhoneOptOut._meta.db_table)
    return f"SELECT 1 FROM {table} WHERE organization_id = %s AND phone = %s LIMIT 1"  # noqa: S608


def textable_problem(person: Person, *, known_opt_out: bool | None = None) -> DomainError | None:
    """Why `person` cannot be texted now, or None (DESIGN: Consent).

    `known_opt_out` is the phone's org-wide opt-out when the caller already read it.
    """
    if not person.mobile:
        return DomainError("no_mobile_number", f"{person.full_name} has no mobile number on file.")
    if person.sms_opted_out or (
        phone_opted_out(person.organization_id, person.mobile)
        if known_opt_out is None
        else known_opt_out
    ):
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


def no_seat() -> DomainError:
    return DomainError(
        "no_seat",
        "You are not assigned to a texting number. Ask an administrator to add you to "
        "a seat with a number.",
    )


def sender_number(actor: User) -> PhoneNumber:
    number = number_for_user(actor)
    if number is None:
        raise no_seat()
    return number


# --- send ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    message: Message
    created: bool  # False when an earlier request with the same Idempotency-Key is returned


# What a person may choose for a text (automatic ones are the system's own).
_SENDABLE_CATEGORIES = frozenset(Message.Category.values) - {Message.Category.AUTOMATIC}


def send_message(
    actor: User,
    person: Person,
    body: object,
    *,
    category: str = Message.Category.GENERAL,
    channel: str = Message.Channel.SMS,
    idempotency_key: str = "",
    subject: object = None,
    route_read: "RouteRead | None" = None,
) -> Accepted:
    """Accept an SMS (or e-mail) to `person` of the actor's organisation for the worker.

    Every refusal has its own code; acceptance writes the message and reserves its cost
    in one transaction, so parallel sends never overspend the allowance or the credits.
    E-mail (channel "email", `subject` required) is `hiretext.mail.services.send_email`.
    `route_read`: the route, read with the person (`candidate_and_route`).
    """
    if not actor.has_perm("accounts.recruitment_sms"):
        raise PermissionDenied("You need the “Recruitment - SMS” permission to send texts.")
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed(
            "The Idempotency-Key is too long (200 characters at most).",
            {"idempotency_key": ["200 characters at most."]},
        )
    if idempotency_key and channel != Message.Channel.SMS:
        # (A text's key is looked up with its route, below: one query for both.)
        earlier = _earlier_send(actor, idempotency_key)
        if earlier is not None:
            return _replayed(earlier, person)
    if channel == Message.Channel.EMAIL:
        from hiretext.mail.services import send_email

        return send_email(
            actor, person, subject, body, category=category, idempotency_key=idempotency_key
        )
    if channel != Message.Channel.SMS:
        raise ValidationFailed("channel must be “sms” or “email”.", {"channel": ["Unknown."]})
    if category not in _SENDABLE_CATEGORIES:
        raise ValidationFailed(
            "category must be general, rejection or interview.", {"category": ["Unknown."]}
        )
    if route_read is not None and route_read.idempotency_key == idempotency_key:
        if route_read.written is not None:  # accepted by the statement that read the route
            return Accepted(route_read.written, True)
        route = route_read.route
    else:
        route = _route(actor, person, idempotency_key)
    if route is None:
        earlier = _earlier_send(actor, idempotency_key) if idempotency_key else None
        if earlier is not None:
            return _replayed(earlier, person)
        raise no_seat()
    if route.earlier_id is not None:
        return _replayed(_message_with_conversation(route.earlier_id), person)
    problem = textable_problem(person, known_opt_out=route.phone_opted_out)
    if problem is not None:
        raise problem
    if category == Message.Category.REJECTION:
        raise DomainError(
            "sms_not_allowed_for_rejection",
            "Rejections cannot be sent as text messages; send them by e-mail.",
        )
    text = clean_body(body)
    count, encoding, _ = check_length(text)
    request = _Request(route, person, text, count, encoding, category, actor, idempotency_key)
    try:
        message = None
        if connection.vendor == "postgresql" and route.conversation_id is not None:
            from hiretext.messaging import acceptance

            message = acceptance.accept_in_one_statement(request)
        if message is None:
            with transaction.atomic():
                message = _accept(request)
    except IntegrityError:
        # A parallel request with the same key won; answer with its message.
        if idempotency_key:
            earlier = _earlier_send(actor, idempotency_key)
            if earlier is not None:
                return _replayed(earlier, person)
        raise
    return Accepted(message, True)


def _earlier_send(actor: User, idempotency_key: str) -> Message | None:
    """The actor's message sent with this Idempotency-Key, if any (a plain probe first:
    nearly every key is new).

    The last condition repeats the unique index's, word for word: without it SQLite cannot
    use that partial index and reads every message of the sender instead.
    """
    sql = f"SELECT id FROM messaging_message WHERE {_SENT_WITH_KEY}"  # noqa: S608 - a constant
    row = prepared.fetchone(sql, [actor.pk, idempotency_key])
    return None if row is None else _message_with_conversation(row[0])


# The last condition repeats the unique index's, word for word (see `_earlier_send`).
_SENT_WITH_KEY = "sender_id = %s AND idempotency_key = %s AND NOT (idempotency_key = '')"


def _message_with_conversation(message_id: int) -> Message:
    return Message.objects.select_related("conversation").get(pk=message_id)


def _replayed(earlier: Message, person: Person) -> Accepted:
    conversation = earlier.conversation
    if conversation.person != person:
        raise DomainError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different message.",
            status=409,
        )
    return Accepted(earlier, False)


@dataclass(frozen=True)
class _Route:
    """What a send needs of the actor's number, read in one statement."""

    number_id: int
    organization_id: int
    carrier: str
    monthly_allowance: int
    time_zone: str
    conversation_id: int | None  # None: the first text to this person on the number
    conversation_phone: str
    phone_opted_out: bool
    earlier_id: int | None  # the actor's message sent earlier with the same Idempotency-Key

    def known_conversation(self, person: Person) -> Conversation:
        """The conversation this route read, with `person` attached; built as a loaded row
        is (positional, no keyword matching), which it is."""
        assert self.conversation_id is not None
        conversation = loaded.written(
            Conversation,
            {
                "id": self.conversation_id,
                "organization_id": self.organization_id,
                "number_id": self.number_id,
                "phone": self.conversation_phone,
            },
        )
        return _with_person(conversation, person)


def _with_person(conversation: Conversation, person: Person) -> Conversation:
    if isinstance(person, Candidate):
        conversation.candidate = person
    else:
        conversation.contact = person
    return conversation


_ROUTE = """
SELECT n.id AS number_id, n.organization_id, n.carrier, n.monthly_allowance, o.time_zone,
       c.id AS conversation_id, c.phone,
       EXISTS (SELECT 1 FROM messaging_phoneoptout p
               WHERE p.organization_id = {organization} AND p.phone = {phone}) AS opted_out,
       (SELECT e.id FROM messaging_message e WHERE {sent_with_key}) AS earlier_id
FROM numbers_seatassignment a
JOIN numbers_phonenumber n ON n.seat_id = a.seat_id
JOIN accounts_organization o ON o.id = n.organization_id
LEFT JOIN messaging_conversation c ON c.number_id = n.id AND c.{person} = {person_id}
WHERE a.user_id = %s AND n.status = '{active}'
ORDER BY n.id
LIMIT 1
"""


def _route_statement(person: str, organization: str, phone: str, person_id: str) -> str:
    """`_ROUTE` for the `person` column, each other argument the SQL of that value."""
    return _ROUTE.format(
        person=person,
        organization=organization,
        phone=phone,
        person_id=person_id,
        sent_with_key=_SENT_WITH_KEY,
        active=PhoneNumber.Status.ACTIVE.value,
    )


_ROUTE_SQL = {
    column: _route_statement(column, "%s", "%s", "%s") for column in ("candidate_id", "contact_id")
}


def _route(actor: User, person: Person, idempotency_key: str = "") -> _Route | None:
    """The actor's active number (as `number_for_user`), its conversation with `person`,
    the phone's org-wide opt-out and an earlier send with this key; None without a number.
    """
    column = "candidate_id" if isinstance(person, Candidate) else "contact_id"
    params = [person.organization_id, person.mobile, actor.pk, idempotency_key, person.pk]
    return _route_in(prepared.fetchone(_ROUTE_SQL[column], [*params, actor.pk]))


def _route_in(row: Sequence[Any] | None) -> _Route | None:
    if row is None or row[0] is None:
        return None
    number_id, org_id, carrier, allowance, time_zone, conversation_id, phone, opted_out = row[:8]
    return _Route(
        number_id,
        org_id,
        carrier,
        allowance,
        time_zone,
        conversation_id,
        phone,
        bool(opted_out),
        row[8],
    )


@dataclass(frozen=True)
class RouteRead:
    """The route a text takes (None: the sender has no number), read with its person; and
    the text itself when the same statement could accept it (`candidate_and_route`)."""

    route: _Route | None
    idempotency_key: str
    written: Message | None = None


@dataclass(frozen=True)
class Draft:
    """A text that passed every check made of its own values, for `candidate_and_route`."""

    text: str
    segments: int
    encoding: str
    category: str
    idempotency_key: str


def sms_draft(body: object, category: str, idempotency_key: str) -> Draft | None:
    """The text as `send_message` would take it; None where one of the checks of its own
    values refuses it (`send_message` then raises that check's error, in its order)."""
    if (
        len(idempotency_key) > MAX_IDEMPOTENCY_KEY
        or category not in _SENDABLE_CATEGORIES
        or category == Message.Category.REJECTION
    ):
        return None
    try:
        text = clean_body(body)
        count, encoding, _ = check_length(text)
    except DomainError:
        return None
    return Draft(text, count, encoding, category, idempotency_key)


@cache
def _candidate_route_sql() -> str:
    # By primary key alone, as the API's candidate lookup (the organisation is compared
    # on the row); the route is `_ROUTE` for that row's candidate.
    route = _route_statement("candidate_id", "who.organization_id", "who.mobile", "who.id")
    return (
        f"SELECT {loaded.columns(Candidate, 'who')}, r.* FROM ats_candidate who "  # noqa: S608
        f"LEFT JOIN LATERAL ({route}) r ON true WHERE who.id = %s"
    )


def candidate_and_route(
    actor: User, candidate_id: int, idempotency_key: str = "", draft: Draft | None = None
) -> tuple[Candidate, RouteRead] | None:
    """PostgreSQL: the candidate of the actor's organisation and the route a text to them
    takes (`_route`, for `send_message`), in one statement; None if there is no such
    candidate. The send endpoint's hot path: one round trip instead of two.

    With a `draft` (its key is `idempotency_key`), that statement also accepts the text
    when nothing refuses it and it can (`acceptance.accept_with_route`): the route then
    carries it, and `send_message` answers with it.
    """
    if draft is not None:
        from hiretext.messaging import acceptance

        assert draft.idempotency_key == idempotency_key
        return acceptance.accept_with_route(actor, candidate_id, draft)
    row = prepared.fetchone(
        _candidate_route_sql(), [actor.pk, idempotency_key, actor.pk, candidate_id]
    )
    candidate = loaded.build(Candidate, row) if row is not None else None
    if row is None or candidate is None or candidate.organization_id != actor.organization_id:
        return None
    return candidate, RouteRead(_route_in(row[loaded.width(Candidate) :]), idempotency_key)


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


_INSERT_MESSAGE = """
INSERT INTO messaging_message (
    organization_id, conversation_id, direction, channel, body, segments, encoding, status,
    category, carrier, external_id, error_code, error_message, sender_id, idempotency_key,
    allowance_units, allowance_period, credit_units, attempts, created_at, updated_at
) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '', '', '', %s, %s, %s, %s, 0, 0, %s, %s)
RETURNING id
"""
_INSERT_ACTIVITY = """
INSERT INTO ats_activityentry (
    candidate_id, contact_id, organization_id, kind, summary, body, actor_id, ref_id, created_at
) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


@dataclass(frozen=True)
class _Request:
    """A text that passed every check, to be written and paid for."""

    route: _Route
    person: Person
    text: str
    segments: int
    encoding: str
    category: str
    actor: User
    idempotency_key: str


def _accept(request: _Request) -> Message:
    """Write the accepted message, its timeline line and its reservation (in the caller's
    transaction), through a few plain statements.

    The month's usage row is taken first (one conditional upsert: the whole text from the
    allowance), as `acceptance.accept_in_one_statement`, PostgreSQL's common case, takes
    it: the same lock order (usage row, then conversation) in both, so parallel sends on
    the two paths cannot deadlock. Otherwise what is left, then credits (DESIGN: Cost).
    """
    route, person, text, count = request.route, request.person, request.text, request.segments
    encoding, category, actor = request.encoding, request.category, request.actor
    idempotency_key = request.idempotency_key
    if route.conversation_id is not None:
        conversation = route.known_conversation(person)
    else:
        number = PhoneNumber(pk=route.number_id, organization_id=route.organization_id)
        conversation = _with_person(conversation_for(number, person), person)
    now = timezone.now()
    conversation.last_message_at = now
    period = period_in(route.time_zone, now)
    paid_whole = take_whole(route.number_id, route.monthly_allowance, period, count)
    ops = connection.ops
    at = ops.adapt_datetimefield_value(now)
    inserted = prepared.fetchone(
        _INSERT_MESSAGE,
        [
            route.organization_id,
            conversation.pk,
            Message.Direction.OUTBOUND.value,
            Message.Channel.SMS.value,
            text,
            count,
            encoding,
            Message.Status.QUEUED.value,
            category,
            route.carrier,
            actor.pk,
            idempotency_key,
            count,
            ops.adapt_datefield_value(period),
            at,
            at,
        ],
    )
    assert inserted is not None
    message_id = inserted[0]
    prepared.fetchone(
        "UPDATE messaging_conversation SET last_message_at = %s WHERE id = %s",
        [at, conversation.pk],
    )
    prepared.fetchone(
        _INSERT_ACTIVITY,
        [
            conversation.candidate_id,
            conversation.contact_id,
            person.organization_id,
            ActivityEntry.Kind.SMS_OUT.value,
            f"SMS to {person.mobile_display} ({actor.display_name})"[:300],
            text,
            actor.pk,
            message_id,
            at,
        ],
    )
    # Built as a loaded row is (positional, no keyword matching): it is one now.
    message = loaded.written(
        Message,
        {
            "id": message_id,
            "organization_id": route.organization_id,
            "conversation_id": conversation.pk,
            "direction": Message.Direction.OUTBOUND,
            "body": text,
            "segments": count,
            "encoding": encoding,
            "status": Message.Status.QUEUED,
            "category": category,
            "carrier": route.carrier,
            "sender_id": actor.pk,
            "idempotency_key": idempotency_key,
            "allowance_units": count,
            "allowance_period": period,
            "created_at": now,
            "updated_at": now,
        },
    )
    message.conversation = conversation
    message.sender = actor
    if not paid_whole:
        _reserve_rest(route.number_id, message, period)
    # In the transaction: the inbox's event joins it on SQLite (no second write) and
    # follows the commit on PostgreSQL.
    signals.message_sent.send(sender=Message, message=message)
    from hiretext.messaging.tasks import queue_delivery

    # Committed with the message (database backend); the worker's first status takes at
    # least a carrier round trip, so the event announced on commit still comes first.
    queue_delivery(message_id)
    return message


def _reserve_rest(number_id: int, message: Message, period: date) -> None:
    """The allowance cannot pay for all of it: what is left of it, then credits if the
    organisation allows overage (DESIGN: Cost)."""
    number = PhoneNumber.objects.select_related("organization").get(pk=number_id)
    units = message.segments
    taken = take_rest(number, units, period)
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
    Message.objects.filter(pk=message.pk).update(allowance_units=taken, credit_units=rest)
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

    No lock is held while the carrier answers (on SQLite that would be the database's only
    write lock, for a whole network round trip): the message is claimed (`sending`, one
    more attempt) and committed, the carrier is called outside any transaction, and its
    receipt is recorded in a second short transaction. A status callback that lands first
    finds the message by our id (carriers echo it) and, statuses only moving forward, is
    never undone by the receipt. Only the message's own delivery task (one at a time,
    retries after it) calls this.
    """
    claimed = _claim(message_id)
    if claimed is None:
        return Outcome.DONE
    attempts, carrier, sms = claimed
    try:
        receipt = get_carrier(carrier).send(sms)
    except CarrierError as exc:
        if exc.transient and attempts < MAX_ATTEMPTS:
            log.warning("Carrier error for message %s, will retry: %s", message_id, exc)
            return Outcome.RETRY
        opt_out = exc.opt_out or exc.code == OPT_OUT_ERROR
        _fail_claimed(message_id, exc.code or "carrier_error", _readable(exc), opt_out=opt_out)
        return Outcome.DONE
    except Exception:  # noqa: BLE001 - unknown failures are retried, then given up
        log.exception("Unexpected error sending message %s", message_id)
        if attempts < MAX_ATTEMPTS:
            return Outcome.RETRY
        _fail_claimed(message_id, "carrier_error", "Not sent: the carrier could not be reached.")
        return Outcome.DONE
    with transaction.atomic():
        message = _locked("id", [message_id])
        if message is not None:
            _record_receipt(message, receipt.status, receipt.external_id)
    return Outcome.DONE


def _record_receipt(message: Message, status: str, external_id: str) -> None:
    """The carrier's answer to the send: its id and status, forward only.

    A status callback that outran the answer may have recorded the carrier's id already
    (found by our id, which carriers echo): the same id is no news; another one (a report
    of an earlier attempt the carrier did take) stays, so its reports keep matching.
    """
    if message.external_id and message.external_id != external_id[:64]:
        log.warning(
            "Message %s: the carrier answered with id %r, its reports came for %r",
            message.pk,
            external_id[:64],
            message.external_id,
        )
    _advance(message, status, external_id=external_id)


# Which message `_locked_statement` reads: by our id (a delivery), by the carrier's id (a
# status callback: with the partial unique index's own condition, so that the prepared,
# generic plan uses it), or by our id as a carrier echoes it (a callback that outran the
# send's receipt).
_LOCKED_WHERE = {
    "id": "m.id = %s AND m.channel = 'sms'",
    "external_id": "m.carrier = %s AND m.external_id = %s AND NOT (m.external_id = '')",
    "reference": "m.id = %s AND m.carrier = %s AND m.channel = %s AND m.direction = %s",
}


@cache
def _locked_statement(vendor: str, with_person: bool, where: str = "id") -> str:
    person = ", ".join(["", loaded.columns(Candidate, "ca"), loaded.columns(Contact, "ct")])
    joins = (
        " LEFT JOIN ats_candidate ca ON ca.id = c.candidate_id"
        " LEFT JOIN ats_contact ct ON ct.id = c.contact_id"
    )
    # With the person, whether the phone opted out organisation-wide (the claim's check).
    opted_out = (
        f", EXISTS (SELECT 1 FROM {PhoneOptOut._meta.db_table} p"  # noqa: S608 - model table
        " WHERE p.organization_id = m.organization_id AND p.phone = c.phone)"
    )
    return (
        f"SELECT {loaded.columns(Message, 'm')}, {loaded.columns(Conversation, 'c')}, "  # noqa: S608
        f"{loaded.columns(PhoneNumber, 'n')}, {loaded.columns(Organization, 'o')}"
        f"{person + opted_out if with_person else ''} FROM messaging_message m"
        " JOIN messaging_conversation c ON c.id = m.conversation_id"
        " JOIN numbers_phonenumber n ON n.id = c.number_id"
        " JOIN accounts_organization o ON o.id = n.organization_id"
        f"{joins if with_person else ''} WHERE {_LOCKED_WHERE[where]} ORDER BY m.id LIMIT 1"
        # The message's row only: locking the conversation would serialise its sends.
        + (" FOR UPDATE OF m" if vendor == "postgresql" else "")
    )


def _locked(where: str, params: list[Any]) -> Message | None:
    """The SMS `_LOCKED_WHERE[where]` finds with `params`, its row locked; its conversation,
    number and organisation are read with it but not locked (that would serialise an
    organisation's sends). One prepared statement: each delivery runs this twice and each
    status callback once, and the ORM spent longer building the four-table query, and
    PostgreSQL planning it, than running it. SQLite needs no row lock: its writer lock is
    taken already."""
    row = prepared.fetchone(_locked_statement(connection.vendor, False, where), params)
    return None if row is None else _built(row, with_person=False)


def _locked_for_claim(message_id: int) -> tuple[Message, bool] | None:
    """`_locked`, with the conversation's person, and whether its phone opted out
    organisation-wide (`phone_opted_out`), in the same statement."""
    row = prepared.fetchone(_locked_statement(connection.vendor, True), [message_id])
    return None if row is None else (_built(row, with_person=True), bool(row[-1]))


def _built(row: tuple[Any, ...], *, with_person: bool) -> Message:
    message = loaded.build(Message, row)
    assert message is not None
    start = loaded.width(Message)
    conversation = loaded.build(Conversation, row, start)
    start += loaded.width(Conversation)
    number = loaded.build(PhoneNumber, row, start)
    start += loaded.width(PhoneNumber)
    organization = loaded.build(Organization, row, start)
    assert conversation is not None and number is not None and organization is not None
    number.organization = organization
    if with_person:
        start += loaded.width(Organization)
        conversation.candidate = loaded.build(Candidate, row, start)
        conversation.contact = loaded.build(Contact, row, start + loaded.width(Candidate))
    conversation.number = number
    message.conversation = conversation
    return message


def _claim(message_id: int) -> tuple[int, str, OutboundSms] | None:
    """Mark a deliverable message `sending` with one more attempt, and commit: (attempts,
    carrier, what to send); None when there is nothing to send (sent, failed, opted out)."""
    with transaction.atomic():
        locked = _locked_for_claim(message_id)
        if locked is None:
            return None
        message, phone_is_opted_out = locked
        if (
            message.status not in (Message.Status.QUEUED, Message.Status.SENDING)
            # The carrier's id is known: an earlier attempt reached it (its answer was lost,
            # its report was not), so sending again would text the person twice.
            or message.external_id
        ):
            return None
        conversation = message.conversation
        person = conversation.person
        if message.category != Message.Category.AUTOMATIC and (
            (person is not None and person.sms_opted_out) or phone_is_opted_out
        ):
            _fail(message, "opted_out", "Not sent: the recipient opted out before it was sent.")
            return None
        message.attempts += 1
        message.status = Message.Status.SENDING
        rows.update(message, ["attempts", "status", "updated_at"])
    sms = OutboundSms(
        from_e164=conversation.number.e164,
        to_e164=conversation.phone,
        body=message.body,
        message_id=message.pk,
    )
    return message.attempts, message.carrier, sms


def _fail_claimed(message_id: int, code: str, text: str, *, opt_out: bool = False) -> None:
    """The carrier refused the claimed message for good: fail and refund it; on an
    unsubscribed recipient, stop texting that phone too."""
    with transaction.atomic():
        message = _locked("id", [message_id])
        if message is None or message.status != Message.Status.SENDING:
            return
        _fail(message, code, text)
        if opt_out:
            conversation = message.conversation
            transaction.on_commit(
                lambda: opt_out_phone(
                    conversation.number.organization,
                    conversation.phone,
                    source=ConsentEvent.Source.CARRIER,
                    wording=f"Carrier error {OPT_OUT_ERROR}: the recipient unsubscribed",
                )
            )


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
        rows.update(message, [*fields, "updated_at"])
    if "status" in fields:
        # As it is now: a later step of the same transaction must not rewrite this one.
        _announce(signals.message_status_changed, copy.copy(message))
    return bool(fields)


def _status_text(status: str, code: str) -> str:
    what = "Not delivered" if status == Message.Status.UNDELIVERED else "Failed"
    return f"{what} by the carrier" + (f" (error {code})." if code else ".")


def record_status(carrier: str, update: StatusUpdate) -> Message | None:
    """Apply a carrier's status callback; unknown ids and backward moves change nothing.

    The message is found by the carrier's id or, while the send's receipt has not recorded
    that id yet (the carrier reported before its answer to the send reached us), by our
    own id, which the carrier echoes (`update.reference`).
    """
    if (
        update.status not in Message.Status.values
        or update.status == Message.Status.RECEIVED
        or not update.external_id
    ):
        return None
    with transaction.atomic():
        message = _locked("external_id", [carrier, update.external_id])
        if message is None and update.reference:
            message = _awaiting_receipt(carrier, update)
        if message is None or not message.is_outbound:
            return None
        if not message.external_id:
            _ahead_of_receipt(message, update)
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


def _awaiting_receipt(carrier: str, update: StatusUpdate) -> Message | None:
    """The outbound SMS `update.reference` names, locked, if the callback may be about it.

    It may while the carrier's id is unknown and the message is being sent (claimed, the
    receipt on its way), or once the receipt recorded the callback's id (it committed while
    this waited for the row). A message of another carrier, of another organisation than
    the callback's carrier account, or with another carrier id is not the callback's.
    """
    if not is_reference(update.reference):
        return None
    message = _locked(
        "reference",
        [int(update.reference), carrier, Message.Channel.SMS, Message.Direction.OUTBOUND],
    )
    if message is None:
        return None
    if message.external_id:
        return message if message.external_id == update.external_id else None
    if message.status != Message.Status.SENDING:
        return None
    if update.account_ref and not _on_account(message.organization_id, update.account_ref):
        return None
    return message


def _on_account(org_id: int, account_ref: str) -> bool:
    """A callback signed for a carrier account speaks for its organisation's messages only."""
    from hiretext.carrier_accounts.models import CarrierAccount

    return CarrierAccount.objects.filter(organization_id=org_id, account_sid=account_ref).exists()


def _ahead_of_receipt(message: Message, update: StatusUpdate) -> None:
    """Record what the receipt would have: the carrier's id and, if the report says the
    text reached (or missed) the phone, that it was sent, as its own step."""
    reached = update.status in (Message.Status.DELIVERED, Message.Status.UNDELIVERED)
    _advance(
        message,
        Message.Status.SENT if reached else message.status,
        external_id=update.external_id,
    )


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
