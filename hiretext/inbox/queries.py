"""Reads for the bell, the inbox widget and the chat panel; only the user's number, now.

Lists are keyset-paginated on (last_message_at, id), newest first, with a row-value
predicate `(last_message_at, id) < (t, n)` over the `conversation_inbox` index
(number, -last_message_at, -id); unread lists use the partial index of migration 0002.
Never OFFSET: page 1,000 costs what page 1 costs.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.db.models.functions import Substr

from hiretext.accounts.models import User
from hiretext.ats import queries as ats_queries
from hiretext.ats.models import Candidate, Contact
from hiretext.lib.errors import ValidationFailed
from hiretext.lib.pagination import MAX_PAGE_SIZE, decode_cursor, encode_cursor
from hiretext.messaging.models import Conversation, Message
from hiretext.numbers.models import PhoneNumber
from hiretext.numbers.queries import number_for_user

PAGE_SIZE = 25
# How much of the latest message a list row reads; rows show at most 90 characters.
SNIPPET_CHARACTERS = 200
SEARCH_LIMIT = 10


def unread_count(user: User, number: PhoneNumber | None = None) -> int:
    """Unread conversations on the user's number (the bell's figure)."""
    number = number or number_for_user(user)
    if number is None:
        return 0
    return Conversation.objects.filter(
        number=number, unread=True, last_message_at__isnull=False
    ).count()


def _with_last_message(qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Each row's latest message, in the same query (index `message_thread`).

    Only the start of its body: lists show a line of it, and an e-mail's body can run to
    hundreds of kilobytes. SNIPPET_CHARACTERS leaves room for combining marks, which
    `truncatechars` does not count."""
    latest = Message.objects.filter(conversation=OuterRef("pk")).order_by("-id")
    return qs.select_related("candidate", "contact").annotate(
        last_body=Subquery(latest.values(snippet=Substr("body", 1, SNIPPET_CHARACTERS))[:1]),
        last_direction=Subquery(latest.values("direction")[:1]),
    )


def _decode(cursor: str) -> tuple[datetime, int]:
    at, pk = decode_cursor(cursor, 2)
    try:
        when = datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None or not isinstance(pk, int) or pk <= 0:
        raise ValidationFailed("That cursor is not valid.", {"cursor": ["Invalid cursor."]})
    return when, pk


@dataclass(frozen=True)
class InboxPage:
    conversations: list[Conversation]
    next_cursor: str | None


def inbox(
    user: User,
    *,
    unread_only: bool = False,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    number: PhoneNumber | None = None,
) -> InboxPage:
    """One page of the user's conversations, newest first; 2 queries (number, page)."""
    number = number or number_for_user(user)
    if number is None:
        if cursor:
            _decode(cursor)  # a bad cursor is still a 400, whoever asks
        return InboxPage([], None)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    qs = Conversation.objects.filter(number=number, last_message_at__isnull=False)
    if unread_only:
        qs = qs.filter(unread=True)
    if cursor:
        qs = qs.filter(TupleLessThan(Tuple(F("last_message_at"), F("id")), _decode(cursor)))
    rows = list(_with_last_message(qs).order_by("-last_message_at", "-id")[: limit + 1])
    for row in rows:
        row.number = number
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        assert last.last_message_at is not None
        next_cursor = encode_cursor([last.last_message_at.isoformat(), last.pk])
    return InboxPage(rows, next_cursor)


@dataclass(frozen=True)
class PersonHit:
    kind: str  # "candidate" | "contact"
    person: Candidate | Contact


def search_people(user: User, q: str, limit: int = SEARCH_LIMIT) -> list[PersonHit]:
    """Candidates, then contacts, of the user's organisation matching a name (2 queries)."""
    q = ats_queries.clean_query(q)
    if not q or user.organization_id is None:
        return []
    name = ats_queries.person_search_filter(q, phone=True)
    org_id = user.organization_id
    candidates = Candidate.objects.filter(organization_id=org_id).filter(name)
    contacts = Contact.objects.filter(organization_id=org_id).filter(name).select_related("company")
    order = ("last_name", "first_name", "id")
    hits = [PersonHit("candidate", p) for p in candidates.order_by(*order)[:limit]]
    hits += [PersonHit("contact", p) for p in contacts.order_by(*order)[: limit - len(hits)]]
    return hits
