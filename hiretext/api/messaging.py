"""Messages and conversations: send with an Idempotency-Key, read statuses and threads."""

from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal

from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.http import HttpRequest, HttpResponse
from ninja import Header, Router, Schema
from pydantic import StringConstraints

from hiretext.accounts.models import User
from hiretext.api.core import current_user, rendered, require_perm
from hiretext.api.schemas import Strict
from hiretext.ats import queries as ats_queries
from hiretext.ats.models import Candidate, Contact
from hiretext.lib import loaded, prepared
from hiretext.lib.errors import NotFound, ValidationFailed
from hiretext.messaging import inbound, queries, services
from hiretext.messaging.models import Conversation, Message

router = Router(tags=["messaging"])

Body = Annotated[str, StringConstraints(max_length=20_000)]


class MessageIn(Strict):
    candidate_id: int | None = None
    contact_id: int | None = None
    channel: Literal["sms", "email"] = "sms"
    body: Body
    subject: Annotated[str, StringConstraints(max_length=300)] | None = None
    category: Literal["general", "rejection", "interview"] = "general"
    template_id: int | None = None


class Accepted(Schema):
    id: int
    status: str
    segments: int
    encoding: str
    conversation_id: int


class AttachmentOut(Schema):
    name: str
    size: int
    type: str


def _email_details(message: Message) -> Any:
    """An e-mail's subject and attachments (None for a text)."""
    if message.channel != Message.Channel.EMAIL:
        return None
    try:
        return message.email
    except ObjectDoesNotExist:
        return None


class MessageOut(Schema):
    id: int
    conversation_id: int
    direction: str
    channel: str
    body: str
    segments: int
    encoding: str
    status: str
    category: str
    error_code: str
    error_message: str
    sender_id: int | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    subject: str | None = None
    attachments: list[AttachmentOut] = []

    @staticmethod
    def resolve_subject(obj: Message) -> str | None:
        details = _email_details(obj)
        return details.subject if details is not None else None

    @staticmethod
    def resolve_attachments(obj: Message) -> list[dict[str, Any]]:
        details = _email_details(obj)
        return list(details.attachments) if details is not None else []


class PersonRef(Schema):
    type: str
    id: int
    name: str


class ConversationOut(Schema):
    id: int
    seat_id: int
    number: str
    person: PersonRef | None
    phone: str
    unread: bool
    last_message_at: datetime | None


class ConversationPage(Schema):
    items: list[ConversationOut]
    next_cursor: str | None


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class LinkIn(Strict):
    candidate_id: int | None = None
    contact_id: int | None = None


def _accepted(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "status": message.status,
        "segments": message.segments,
        "encoding": message.encoding,
        "conversation_id": message.conversation_id,
    }


def _conversation(c: Conversation) -> dict[str, Any]:
    person = c.person
    return {
        "id": c.pk,
        "seat_id": c.number.seat_id,
        "number": c.number.e164,
        "person": (
            {
                "type": "candidate" if isinstance(person, Candidate) else "contact",
                "id": person.pk,
                "name": person.full_name,
            }
            if person is not None
            else None
        ),
        "phone": c.phone,
        "unread": c.unread,
        "last_message_at": c.last_message_at,
    }


def _person(
    request: HttpRequest, candidate_id: int | None, contact_id: int | None
) -> Candidate | Contact:
    if (candidate_id is None) == (contact_id is None):
        raise ValidationFailed(
            "Give exactly one of candidate_id and contact_id.",
            {"candidate_id": ["Exactly one of candidate_id, contact_id."]},
        )
    user = current_user(request)
    if candidate_id is not None:
        return _candidate(user, candidate_id)
    assert contact_id is not None
    return ats_queries.access_contact(user, contact_id)


@cache
def _candidate_statement(vendor: str) -> str:
    # By primary key alone: with `organization_id = %s` beside it, a planner with no
    # statistics yet (a new database) chose the organisation's index and read every
    # candidate of it. The organisation is compared on the row instead.
    return f"SELECT {loaded.columns(Candidate, 'c')} FROM ats_candidate c WHERE c.id = %s"  # noqa: S608


def _check_candidate_id(user: User, candidate_id: int) -> None:
    """NotFound unless `user` may look for `candidate_id` at all."""
    if not 0 < candidate_id <= ats_queries.MAX_ID:
        raise NotFound("No such candidate.")
    if user.organization_id is None:
        raise NotFound()


def _candidate(user: User, candidate_id: int) -> Candidate:
    """`ats.queries.access_candidate` in one plain SELECT (the send endpoint's hot path)."""
    _check_candidate_id(user, candidate_id)
    row = prepared.fetchone(_candidate_statement(connection.vendor), [candidate_id])
    person = loaded.build(Candidate, row) if row is not None else None
    if person is None or person.organization_id != user.organization_id:
        raise NotFound("No such candidate.")
    return person


@router.post("/messages", response={202: Accepted}, operation_id="send_message")
def send_message(
    request: HttpRequest,
    response: HttpResponse,
    payload: MessageIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> HttpResponse:
    """Accept a message for sending (202, status `queued`); the same key returns the same body."""
    user = require_perm(request, "recruitment_sms")
    key = (idempotency_key or "").strip()
    person, route_read = _recipient(request, payload, key)
    if payload.template_id is not None:
        raise NotFound("No such template.")
    accepted = services.send_message(
        user,
        person,
        payload.body,
        category=payload.category,
        channel=payload.channel,
        idempotency_key=key,
        subject=payload.subject,
        route_read=route_read,
    )
    return rendered(request, response, _accepted(accepted.message), status=202)


def _recipient(
    request: HttpRequest, payload: MessageIn, key: str
) -> tuple[Candidate | Contact, services.RouteRead | None]:
    """The person to send to (`_person`); a text to a candidate on PostgreSQL reads the
    route it takes in the same statement, which accepts the text too when it can
    (`services.candidate_and_route`)."""
    candidate_id = payload.candidate_id
    if (
        candidate_id is None
        or payload.contact_id is not None
        or payload.channel != "sms"
        or connection.vendor != "postgresql"
    ):
        return _person(request, candidate_id, payload.contact_id), None
    user = current_user(request)
    _check_candidate_id(user, candidate_id)
    draft = None
    if payload.template_id is None:
        draft = services.sms_draft(payload.body, payload.category, key)
    found = services.candidate_and_route(user, candidate_id, key, draft)
    if found is None:
        raise NotFound("No such candidate.")
    return found


@router.get("/messages/{message_id}", response=MessageOut, operation_id="get_message")
def get_message(request: HttpRequest, message_id: int) -> Message:
    return queries.access_message(current_user(request), message_id)


@router.get("/conversations", response=ConversationPage, operation_id="list_conversations")
def list_conversations(
    request: HttpRequest, unread: bool | None = None, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    rows, next_cursor = queries.list_conversations(
        current_user(request), unread=unread, cursor=cursor, limit=limit
    )
    return {"items": [_conversation(c) for c in rows], "next_cursor": next_cursor}


@router.get(
    "/conversations/{conversation_id}/messages",
    response=MessagePage,
    operation_id="list_conversation_messages",
)
def list_messages(
    request: HttpRequest, conversation_id: int, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    conversation = queries.access_conversation(current_user(request), conversation_id)
    rows, next_cursor = queries.list_messages(conversation, cursor=cursor, limit=limit)
    return {"items": rows, "next_cursor": next_cursor}


@router.post(
    "/conversations/{conversation_id}/link",
    response=ConversationOut,
    operation_id="link_conversation",
)
def link_conversation(
    request: HttpRequest, conversation_id: int, payload: LinkIn
) -> dict[str, Any] | HttpResponse:
    """Attach an unknown phone's conversation to a candidate or contact."""
    user = current_user(request)
    conversation = queries.access_conversation(user, conversation_id)
    person = _person(request, payload.candidate_id, payload.contact_id)
    linked = inbound.link_conversation(user, conversation, person)
    return _conversation(queries.access_conversation(user, linked.pk))


@router.post(
    "/conversations/{conversation_id}/read",
    response=ConversationOut,
    operation_id="read_conversation",
)
def read_conversation(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    """Mark read for everyone on the number (their bells drop at once); idempotent."""
    user = current_user(request)
    conversation = queries.access_conversation(user, conversation_id)
    services.mark_read(conversation, user)
    conversation.unread = False
    return _conversation(conversation)
