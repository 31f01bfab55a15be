"""Inbound SMS: store once, route to the right conversation, answer keywords.

Called by the webhook view once per carrier event. Idempotent on (carrier, external id):
a retried webhook finds the message it stored and does nothing more.
"""

import logging

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from hiretext.accounts.models import Organization, User
from hiretext.ats import services as ats_services
from hiretext.ats.models import ActivityEntry, Candidate, ConsentEvent, Contact
from hiretext.carriers.base import InboundSms
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

# Sent after an inbound message is committed (the inbox, the bell and notifications listen).
message_received = Signal()  # kwargs: message


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
        existing = (
            Conversation.objects.filter(number=number, phone=phone)
            .exclude(candidate__isnull=True, contact__isnull=True)
            .order_by("-last_message_at", "-id")
            .first()
        )
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


def record_inbound(carrier: str, event: InboundSms) -> Message | None:
    """Store an inbound text and act on keywords; None if it is for no number of ours."""
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
    body = event.body[:MAX_INBOUND_BODY].replace("\x00", "")
    try:
        with transaction.atomic():
            message = _store(number, carrier, event, body)
    except IntegrityError:
        # The same webhook, delivered twice at once: the other request stored it.
        return Message.objects.filter(carrier=carrier, external_id=event.external_id).first()
    transaction.on_commit(lambda: message_received.send(sender=Message, message=message))
    return message


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
