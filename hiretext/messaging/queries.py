"""Reads: conversations are visible only to the users on their number now (DESIGN)."""

from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Subquery

from hiretext.accounts.models import User
from hiretext.ats.models import Application, Candidate, Contact
from hiretext.ats.queries import MAX_ID
from hiretext.lib import loaded, prepared
from hiretext.lib.errors import NotFound
from hiretext.lib.pagination import paginate
from hiretext.mail.models import EmailDetails
from hiretext.messaging.models import Conversation, Message
from hiretext.numbers.models import PhoneNumber, SeatAssignment
from hiretext.numbers.queries import number_for_user

type Person = Candidate | Contact


def visible_conversations(user: User) -> QuerySet[Conversation]:
    """Conversations on the active number of the user's seat (none without one)."""
    if user.organization_id is None:
        return Conversation.objects.none()
    # The seat as a scalar subquery (one seat per user): two joins fewer than going through
    # seat and assignment tables, which PostgreSQL spends longer planning than running.
    seat = SeatAssignment.objects.filter(user_id=user.pk).values("seat_id")[:1]
    return Conversation.objects.filter(
        organization_id=user.organization_id,
        number__status=PhoneNumber.Status.ACTIVE,
        number__seat_id=Subquery(seat),
    )


@cache
def _visible_conversation_statement(vendor: str) -> str:
    """`visible_conversations` for one id, with its number and person, as one plain SELECT
    (prepared on PostgreSQL): every conversation page and API call opens with it, and the
    ORM spent longer building it than the database running it."""
    return (
        f"SELECT {loaded.columns(Conversation, 'c')}, {loaded.columns(PhoneNumber, 'n')}, "  # noqa: S608 - names from models
        f"{loaded.columns(Candidate, 'ca')}, {loaded.columns(Contact, 'ct')} "
        "FROM messaging_conversation c "
        "JOIN numbers_phonenumber n ON n.id = c.number_id "
        "LEFT JOIN ats_candidate ca ON ca.id = c.candidate_id "
        "LEFT JOIN ats_contact ct ON ct.id = c.contact_id "
        "WHERE c.id = %s AND c.organization_id = %s "
        f"AND n.status = '{PhoneNumber.Status.ACTIVE.value}' "
        "AND n.seat_id = (SELECT a.seat_id FROM numbers_seatassignment a WHERE a.user_id = %s)"
    )


def access_conversation(user: User, conversation_id: int) -> Conversation:
    """A conversation the user sees (`visible_conversations`), with its number and person."""
    if user.organization_id is None or not 0 < conversation_id <= MAX_ID:
        raise NotFound("No such conversation.")
    row = prepared.fetchone(
        _visible_conversation_statement(connection.vendor),
        [conversation_id, user.organization_id, user.pk],
    )
    conversation = loaded.build(Conversation, row) if row is not None else None
    if conversation is None:
        raise NotFound("No such conversation.")
    assert row is not None
    at = loaded.width(Conversation)
    conversation.number = loaded.build(PhoneNumber, row, at)  # type: ignore[assignment]
    at += loaded.width(PhoneNumber)
    conversation.candidate = loaded.build(Candidate, row, at)
    conversation.contact = loaded.build(Contact, row, at + loaded.width(Candidate))
    return conversation


def access_message(user: User, message_id: int) -> Message:
    """A message of a conversation the user sees, or one the user sent."""
    if user.organization_id is None:
        raise NotFound("No such message.")
    message = (
        Message.objects.select_related("conversation")
        .filter(organization_id=user.organization_id, pk=message_id)
        .filter(Q(sender_id=user.pk) | Q(conversation__in=visible_conversations(user).values("pk")))
        .first()
    )
    if message is None:
        raise NotFound("No such message.")
    return message


def conversation_with(user: User, person: Person) -> Conversation | None:
    """The conversation between the user's number and `person`, if any."""
    key = {"candidate": person} if isinstance(person, Candidate) else {"contact": person}
    return visible_conversations(user).filter(**key).select_related("number").first()


def list_conversations(
    user: User, *, unread: bool | None = None, cursor: str | None = None, limit: int = 50
) -> tuple[list[Conversation], str | None]:
    """Newest first, on the user's number only: one walk of index `conversation_inbox`.

    The number is resolved first (as the chat list does) so the page is a plain range of
    that index bounded by the cursor's row value, not a join through seat assignments
    that reads every conversation of the number and sorts them.
    """
    number = number_for_user(user) if user.organization_id is not None else None
    order = ["last_message_at", "id"]
    if number is None or number.organization_id != user.organization_id:
        # Nothing to see; a bad cursor is still a 400, whoever asks.
        return paginate(Conversation.objects.none(), order, cursor, descending=True, limit=limit)
    qs = Conversation.objects.filter(number=number, last_message_at__isnull=False)
    if unread is not None:
        qs = qs.filter(unread=unread)
    rows, next_cursor = paginate(
        qs.select_related("candidate", "contact"), order, cursor, descending=True, limit=limit
    )
    for row in rows:
        row.number = number
    return rows, next_cursor


def list_messages(
    conversation: Conversation, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[Message], str | None]:
    """Newest first, by id (ids grow with time), index `message_thread`."""
    qs = Message.objects.filter(conversation=conversation).select_related("sender", "email")
    return paginate(qs, ["id"], cursor, descending=True, limit=limit)


@cache
def _thread_statement(vendor: str) -> str:
    """A conversation's latest messages with their sender and e-mail details (index
    `message_thread`), as one plain SELECT: the ORM's building of it cost more than its
    running, on every conversation page and every live refresh of one."""
    return (
        f"SELECT {loaded.columns(Message, 'm')}, {loaded.columns(User, 'u')}, "  # noqa: S608 - names from models
        f"{loaded.columns(EmailDetails, 'e')} "
        "FROM messaging_message m "
        "LEFT JOIN accounts_user u ON u.id = m.sender_id "
        f"LEFT JOIN {EmailDetails._meta.db_table} e ON e.message_id = m.id "
        "WHERE m.conversation_id = %s ORDER BY m.id DESC LIMIT %s"
    )


def thread(conversation: Conversation, limit: int = 100) -> list[Message]:
    """The latest `limit` messages, oldest first (for the modal), each with its sender,
    its e-mail details (or none) and its conversation, as `select_related` leaves them."""
    rows = prepared.fetchall(_thread_statement(connection.vendor), [conversation.pk, limit])
    at_user = loaded.width(Message)
    at_email = at_user + loaded.width(User)
    messages = []
    for row in reversed(rows):
        message = loaded.build(Message, row)
        assert message is not None
        message.conversation = conversation
        message.sender = loaded.build(User, row, at_user)
        email = loaded.build(EmailDetails, row, at_email)
        Message.email.related.set_cached_value(message, email)
        if email is not None:
            EmailDetails.message.field.set_cached_value(email, message)
        messages.append(message)
    return messages


def history(user: User, person: Person) -> list[tuple[Conversation, list[Message]]]:
    """The person's SMS history: on the user's number; on every number with the report right."""
    key = {"candidate": person} if isinstance(person, Candidate) else {"contact": person}
    if user.has_perm("accounts.view_sms_activity_report"):
        qs = Conversation.objects.filter(organization_id=person.organization_id, **key)
    else:
        qs = visible_conversations(user).filter(**key)
    conversations = list(qs.select_related("number").order_by("-last_message_at", "-id"))
    return [(c, thread(c, limit=200)) for c in conversations]


# --- icon states for a page of people (one query per kind of person) ----------------------


def _people_in(value: Any) -> list[Person]:
    if isinstance(value, (Candidate, Contact)):
        return [value]
    if isinstance(value, Application):
        return [value.candidate]
    if isinstance(value, QuerySet):
        value = value._result_cache  # only what the page already loaded; never a new query
        if value is None:
            return []
    if isinstance(value, (list, tuple)):
        found: list[Person] = []
        for item in value[:500]:
            if isinstance(item, (Candidate, Contact)):
                found.append(item)
            elif isinstance(item, Application):
                found.append(item.candidate)
        return found
    return []


def active_people(user: User, people: list[Person]) -> set[tuple[str, int]]:
    """Which of `people` have had any message with the user's number: ("candidate", id)…"""
    number = number_for_user(user)
    if number is None or not people:
        return set()
    found: set[tuple[str, int]] = set()
    candidates = {p.pk for p in people if isinstance(p, Candidate)}
    contacts = {p.pk for p in people if isinstance(p, Contact)}
    base = Conversation.objects.filter(number=number, last_message_at__isnull=False)
    if candidates:
        found |= {
            ("candidate", pk)
            for pk in base.filter(candidate_id__in=candidates).values_list(
                "candidate_id", flat=True
            )
        }
    if contacts:
        found |= {
            ("contact", pk)
            for pk in base.filter(contact_id__in=contacts).values_list("contact_id", flat=True)
        }
    return found


def people_on_page(context_values: list[Any]) -> list[Person]:
    people: list[Person] = []
    for value in context_values:
        people += _people_in(value)
    return people
