"""Inbound SMS: store once, route to the right conversation, answer keywords.

Called by the webhook view once per carrier event. Idempotent on (carrier, external id):
a retried webhook finds the message it stored and does nothing more.
"""

import logging
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.utils import timezone

from hiretext.accounts.models import Organization, User
from hiretext.ats import services as ats_services
from hiretext.ats.models import ActivityEntry, Candidate, ConsentEvent, Contact
from hiretext.carriers.base import InboundSms
from hiretext.lib import loaded, prepared, rows
from hiretext.lib.errors import DomainError
from hiretext.lib.phones import format_phone
from hiretext.messaging import segments
from hiretext.messaging.keywords import Keyword, classify
from hiretext.messaging.models import Conversation, Message
from hiretext.messaging.services import (
    conversation_for,
    opt_in_phone,
    opt_out_phone,
    people_with_phone,
    send_automatic_reply,
)
from hiretext.numbers.models import PhoneNumber

log = logging.getLogger(__name__)

MAX_INBOUND_BODY = 5000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Sent inside the transaction that stores an inbound message (the inbox listens: its event
# commits with the message, or right after it on PostgreSQL).
message_received = Signal()  # kwargs: message, event_published

# Rows written with every stored inbound message, in the transaction that stores it (the
# inbox registers its reply-e-mail notices): a message is never stored without them. A row
# holds the message's id and its model's defaults.
_rows_with_each_message: list[tuple[type[models.Model], str]] = []


def write_with_each_message(model: type[models.Model], field: str = "message_id") -> None:
    """Have a `model` row (`field` = the message's id) written with every inbound message."""
    if (model, field) not in _rows_with_each_message:
        _rows_with_each_message.append((model, field))


def announce_stored(
    message: Message, *, rows_written: bool = False, event_published: bool = False
) -> None:
    """Inside the storing transaction: write the registered rows, tell the listeners
    (`event_published`: the inbox's event of the message is written already)."""
    if not rows_written:
        for model, field in _rows_with_each_message:
            prepared.fetchone(rows.insert_statement(model), rows.params(model, {field: message.pk}))
    message_received.send(sender=Message, message=message, event_published=event_published)


def help_text(org: Organization, number: PhoneNumber) -> str:
    """The HELP/INFO answer: name, a contact, opt-out instructions, rates (CTIA)."""
    intro = org.sms_help_text.strip() or "Recruiting messages."
    return (
        f"{org.name}: {intro} Contact: {format_phone(number.e164)}. "
        "Reply STOP to opt out, START to opt back in. Msg & data rates may apply."
    )


def stop_text(org: Organization) -> str:
    return (
        f"{org.name}: you are unsubscribed and will receive no more texts from us. "
        "Reply START to subscribe again."
    )


def start_text(org: Organization) -> str:
    return (
        f"{org.name}: you are subscribed to texts again. Reply HELP for help, STOP to opt out. "
        "Msg & data rates may apply."
    )


def _route(number: PhoneNumber, phone: str) -> Conversation:
    """The conversation for a text from `phone` to `number`.

    A known person (candidates first, then contacts; the one already talking on this
    number first) joins their conversation; an unknown phone gets an unlinked one.
    """
    people = people_with_phone(number.organization_id, phone)
    if people:
        existing = _latest_conversation(number, phone)
        if existing is not None and existing.person in people:
            return existing
        return conversation_for(number, people[0])
    conversation = Conversation.objects.filter(
        number=number, phone=phone, candidate__isnull=True, contact__isnull=True
    ).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            return Conversation.objects.create(
                organization_id=number.organization_id, number=number, phone=phone
            )
    except IntegrityError:
        return Conversation.objects.get(
            number=number, phone=phone, candidate__isnull=True, contact__isnull=True
        )


def _person_conversations(number: PhoneNumber, phone: str) -> "QuerySet[Conversation]":
    """The conversations of `phone` on `number` that belong to a person (one or two): read
    unordered, so that SQLite seeks `conversation_route` instead of walking the number's
    inbox in date order."""
    return Conversation.objects.filter(number=number, phone=phone).exclude(
        candidate__isnull=True, contact__isnull=True
    )


def _latest_conversation(number: PhoneNumber, phone: str) -> Conversation | None:
    """The latest of them (as `_route_sql` orders: by last message, never-used last)."""
    return max(
        _person_conversations(number, phone),
        key=lambda c: (c.last_message_at is not None, c.last_message_at or _EPOCH, c.pk),
        default=None,
    )


def record_inbound(carrier: str, event: InboundSms) -> Message | None:
    """Store an inbound text and act on keywords; None if it is for no number of ours."""
    body = event.body[:MAX_INBOUND_BODY].replace("\x00", "")
    if classify(body) is None:
        reply = _store_reply(carrier, event, body)
        if reply is not None:
            return reply
    number = (
        PhoneNumber.objects.select_related("organization")
        .filter(e164=event.to_e164, carrier=carrier, status=PhoneNumber.Status.ACTIVE)
        .first()
    )
    if number is None:
        log.warning("Inbound SMS for %s, which is not an active %s number", event.to_e164, carrier)
        return None
    earlier = Message.objects.filter(carrier=carrier, external_id=event.external_id).first()
    if earlier is not None:
        return earlier
    try:
        with transaction.atomic():
            message = _store(number, carrier, event, body)
            announce_stored(message)
    except IntegrityError:
        # The same webhook, delivered twice at once: the other request stored it.
        return Message.objects.filter(carrier=carrier, external_id=event.external_id).first()
    return message


# --- the hot path: a reply in a conversation that exists ---------------------------------------
#
# Nearly every inbound text answers a conversation we already have. `_store_reply` stores
# those with a handful of statements through a raw cursor in one transaction (the ORM's
# per-query and per-row Python cost 10 times as much); anything else (a new or unknown
# phone, a keyword, a person whose mobile changed) takes the general path above.


@cache
def _route_sql() -> str:
    from hiretext.ats.models import Candidate, Contact

    table = {
        model: connection.ops.quote_name(model._meta.db_table)
        for model in (PhoneNumber, Conversation, Candidate, Contact)
    }
    # SQLite's planner would rather walk the number's whole inbox (`conversation_inbox`,
    # in this order) than sort the phone's one or two rows: `+` takes the order off the
    # index, so it seeks `conversation_route` (number, phone) and sorts what it finds.
    plus = "+" if connection.vendor == "sqlite" else ""
    latest_first = f"{plus}c2.last_message_at DESC NULLS LAST, {plus}c2.id DESC"
    return f"""
        SELECT n.id AS number_id, n.organization_id AS organization_id,
               c.id AS conversation_id, c.candidate_id AS candidate_id,
               c.contact_id AS contact_id, COALESCE(p.mobile, k.mobile) AS mobile
        FROM {table[PhoneNumber]} n
        JOIN {table[Conversation]} c ON c.id = (
            SELECT c2.id FROM {table[Conversation]} c2
            WHERE c2.organization_id = n.organization_id AND c2.phone = %s
              AND c2.number_id = n.id
              AND (c2.candidate_id IS NOT NULL OR c2.contact_id IS NOT NULL)
            ORDER BY {latest_first}
            LIMIT 1
        )
        LEFT JOIN {table[Candidate]} p ON p.id = c.candidate_id
        LEFT JOIN {table[Contact]} k ON k.id = c.contact_id
        WHERE n.e164 = %s AND n.carrier = %s AND n.status = '{PhoneNumber.Status.ACTIVE.value}'
        LIMIT 1
    """  # noqa: S608 - table names and our own constant


_INSERT_ONCE = (
    'ON CONFLICT ("carrier", "external_id") WHERE NOT ("external_id" = \'\') '
    'DO NOTHING RETURNING "id"'
)


def _store_reply(carrier: str, event: InboundSms, body: str) -> Message | None:
    """Store a text from a person into their latest conversation on the number.

    The same choice `_route` makes when that conversation's person still has this mobile;
    None (take the general path) otherwise. A redelivered id returns the stored message.
    """
    count, encoding, _ = segments.count(body) if body else (1, segments.GSM7, 0)
    now = timezone.now()
    fields = {
        "direction": Message.Direction.INBOUND,
        "body": body,
        "segments": count,
        "encoding": encoding,
        "status": Message.Status.RECEIVED,
        "carrier": carrier,
        "external_id": event.external_id[:64],
        "created_at": now,
        "updated_at": now,
    }
    entry = {
        "kind": ActivityEntry.Kind.SMS_IN,
        "summary": f"SMS from {format_phone(event.from_e164)}"[:300],
        "body": body,
        "created_at": now,
    }
    route = [event.from_e164, event.to_e164, carrier]
    if connection.vendor == "postgresql":
        return _store_reply_in_one_statement(event, route, fields, entry)
    row = prepared.fetchone(_route_sql(), route)
    if row is None or row[5] != event.from_e164:
        return None
    number_id, org_id, conversation_id, candidate_id, contact_id, _ = row
    fields |= {"organization_id": org_id, "conversation_id": conversation_id}
    person = {"organization_id": org_id, "candidate_id": candidate_id, "contact_id": contact_id}
    # Everything but the statements is prepared before the transaction: SQLite has one
    # writer, and every other writer waits for the time spent between BEGIN and COMMIT.
    message_params = rows.params(Message, fields)
    touch_params = [_db_time(now), True, conversation_id]
    entry_params = rows.params(ActivityEntry, entry | person | {"ref_id": 0})
    ref_at = rows.position(ActivityEntry, "ref_id")
    message = _message(0, row, event, fields)
    try:
        with transaction.atomic():
            inserted = prepared.fetchone(_insert_once_sql(), message_params)
            if inserted is None:  # a redelivery: the carrier's id is stored already
                return _stored(carrier, event)
            message.pk = entry_params[ref_at] = inserted[0]
            prepared.fetchone(_touch_sql(), touch_params)
            prepared.fetchone(rows.insert_statement(ActivityEntry), entry_params)
            announce_stored(message)
    except IntegrityError:
        return None  # e.g. the conversation was deleted meanwhile: the general path decides
    return message


def _store_reply_in_one_statement(
    event: InboundSms, route: list[Any], fields: dict[str, Any], entry: dict[str, Any]
) -> Message | None:
    """PostgreSQL: route, store, touch, timeline and registered rows as one statement (one
    round trip and one commit; each round trip through the driver costs more than the work
    itself)."""
    written = tuple(_rows_with_each_message)
    params = [
        *route,
        *rows.params(Message, fields, computed=_FROM_ROUTE),
        event.from_e164,
        _db_time(fields["created_at"]),
        *rows.params(ActivityEntry, entry, computed=_ENTRY_FROM_ROUTE),
    ]
    for model, field in written:
        params += rows.params(model, {}, computed={field: "m.id"})
    sql = _store_sql(written)
    event_published = False
    if connection.in_atomic_block or not message_received.has_listeners(Message):
        row = prepared.fetchone(sql, params)
    else:
        row, event_published = _store_and_publish(sql, params, event, fields)
    if row is None or row[5] != event.from_e164:
        return None
    if row[6] is None:  # a redelivery: the carrier's id is stored already
        return _stored(fields["carrier"], event)
    fields |= {"organization_id": row[1], "conversation_id": row[2]}
    message = _message(row[6], row, event, fields)
    announce_stored(message, rows_written=True, event_published=event_published)
    return message


def _store_and_publish(
    sql: str, params: list[Any], event: InboundSms, fields: dict[str, Any]
) -> tuple[tuple[Any, ...] | None, bool]:
    """The statement, then the inbox's event of the message it stored, in one round trip
    (`inbox.events.run_then_publish_message`: the event is ordered as every event is); a
    redelivery, whose message was stored earlier, writes none. (The row; whether the event
    was written.)"""
    from hiretext.inbox import events

    try:
        row, event_published = events.run_then_publish_message(
            (sql, params),
            {"direction": Message.Direction.INBOUND, "status": Message.Status.RECEIVED},
        )
    except DatabaseError:
        stored = _stored(fields["carrier"], event)
        if stored is None or stored.created_at != fields["created_at"]:
            raise  # the statement did not store it: as a failed statement always was
        # Stored and committed; only its event failed: the listeners write it (as the
        # other paths do).
        log.warning("Inbound message %s stored; its inbox event failed", stored.pk, exc_info=True)
        route = prepared.fetchone(_route_sql(), [event.from_e164, event.to_e164, stored.carrier])
        return (None if route is None else (*route, stored.pk)), False
    return row, event_published


_FROM_ROUTE = {"organization_id": "r.organization_id", "conversation_id": "r.conversation_id"}
_ENTRY_FROM_ROUTE = {
    "organization_id": "r.organization_id",
    "candidate_id": "r.candidate_id",
    "contact_id": "r.contact_id",
    "ref_id": "m.id",
}


@cache
def _store_sql(written: tuple[tuple[type[models.Model], str], ...]) -> str:
    from hiretext.inbox.events import record_written_message

    conversation = connection.ops.quote_name(Conversation._meta.db_table)
    parts = [
        f"r AS ({_route_sql()})",
        f"m AS ({rows.insert_select(Message, _FROM_ROUTE, 'r WHERE r.mobile = %s')} "
        f"{_INSERT_ONCE.replace('RETURNING "id"', 'RETURNING id')})",
        f"u AS (UPDATE {conversation} SET last_message_at = %s, unread = true "  # noqa: S608
        "WHERE id IN (SELECT r.conversation_id FROM r JOIN m ON true))",
        f"a AS ({rows.insert_select(ActivityEntry, _ENTRY_FROM_ROUTE, 'r, m')})",
        *(
            f"w{i} AS ({rows.insert_select(model, {field: 'm.id'}, 'm')})"
            for i, (model, field) in enumerate(written)
        ),
    ]
    returned = (
        "r.number_id, r.organization_id, r.conversation_id, r.candidate_id, r.contact_id, "
        f"r.mobile, m.id, {record_written_message('m.id')}"
    )
    return f"WITH {', '.join(parts)} SELECT {returned} FROM r LEFT JOIN m ON true"  # noqa: S608


def _stored(carrier: str, event: InboundSms) -> Message | None:
    """The message a redelivered carrier id stored (its unique index finds it)."""
    row = prepared.fetchone(_stored_sql(), [carrier, event.external_id[:64]])
    return loaded.build(Message, row) if row is not None else None


@cache
def _stored_sql() -> str:
    table = connection.ops.quote_name(Message._meta.db_table)
    return (
        f"SELECT {loaded.columns(Message, 'm')} FROM {table} m "  # noqa: S608 - from the model
        "WHERE m.carrier = %s AND m.external_id = %s AND NOT (m.external_id = '')"
    )


def _message(
    message_id: int, route: tuple[Any, ...], event: InboundSms, fields: dict[str, Any]
) -> Message:
    """The stored message as a model instance, its conversation attached (no query)."""
    number_id, org_id, conversation_id, candidate_id, contact_id = route[:5]
    conversation = loaded.written(
        Conversation,
        {
            "id": conversation_id,
            "organization_id": org_id,
            "number_id": number_id,
            "candidate_id": candidate_id,
            "contact_id": contact_id,
            "phone": event.from_e164,
            "last_message_at": fields["created_at"],
            "unread": True,
        },
    )
    message = loaded.written(Message, fields | {"id": message_id})
    message.conversation = conversation
    return message


def _insert_once_sql() -> str:
    return rows.insert_statement(Message, _INSERT_ONCE)


@cache
def _touch_sql() -> str:
    table = connection.ops.quote_name(Conversation._meta.db_table)
    return f'UPDATE {table} SET "last_message_at" = %s, "unread" = %s WHERE "id" = %s'  # noqa: S608


def _db_time(value: datetime) -> Any:
    return Conversation._meta.get_field("last_message_at").get_db_prep_save(value, connection)


def _store(number: PhoneNumber, carrier: str, event: InboundSms, body: str) -> Message:
    conversation = _route(number, event.from_e164)
    count, encoding, _ = segments.count(body) if body else (1, segments.GSM7, 0)
    message = Message.objects.create(
        organization_id=number.organization_id,
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        body=body,
        segments=count,
        encoding=encoding,
        status=Message.Status.RECEIVED,
        carrier=carrier,
        external_id=event.external_id[:64],
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=timezone.now(), unread=True
    )
    person = conversation.person
    if person is not None:
        ats_services.log_activity(
            person,
            ActivityEntry.Kind.SMS_IN,
            f"SMS from {person.mobile_display or event.from_e164}",
            body=body,
            ref_id=message.pk,
        )
    _answer_keyword(number, conversation, event.from_e164, body)
    return message


def _answer_keyword(number: PhoneNumber, conversation: Conversation, phone: str, body: str) -> None:
    """STOP / START change consent and are confirmed once; HELP is always answered."""
    keyword = classify(body)
    org = number.organization
    if keyword is Keyword.STOP:
        if opt_out_phone(org, phone, source=ConsentEvent.Source.SMS_KEYWORD, wording=body):
            send_automatic_reply(number, conversation, stop_text(org))
    elif keyword is Keyword.START:
        if opt_in_phone(org, phone, source=ConsentEvent.Source.SMS_KEYWORD, wording=body):
            send_automatic_reply(number, conversation, start_text(org))
    elif keyword is Keyword.HELP:
        send_automatic_reply(number, conversation, help_text(org, number))


def link_conversation(
    actor: User, conversation: Conversation, person: Candidate | Contact
) -> Conversation:
    """Attach an unknown phone's conversation to a person of the organisation.

    If the person already has a conversation on this number, the messages move there and
    the unlinked one goes away.
    """
    if not actor.has_perm("accounts.edit_people"):
        raise DomainError("permission_denied", "You cannot link conversations.", status=403)
    if conversation.person is not None:
        raise DomainError(
            "already_linked", "This conversation already belongs to a person.", status=409
        )
    if person.organization_id != conversation.organization_id:
        raise DomainError("not_found", "No such person.", status=404)
    with transaction.atomic():
        target = conversation_for(conversation.number, person)
        moved = list(
            Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
            .order_by("id")
            .values_list("id", "body")
        )
        Message.objects.filter(conversation=conversation).update(conversation=target)
        latest = max(
            filter(None, [target.last_message_at, conversation.last_message_at]), default=None
        )
        Conversation.objects.filter(pk=target.pk).update(
            last_message_at=latest, unread=target.unread or conversation.unread
        )
        if target.pk != conversation.pk:
            conversation.delete()
        for message_id, body in moved:
            ats_services.log_activity(
                person,
                ActivityEntry.Kind.SMS_IN,
                f"SMS from {conversation.phone} (linked by {actor.display_name})",
                body=body,
                actor=actor,
                ref_id=message_id,
            )
    target.refresh_from_db()
    return target
