"""Reads for the bell, the inbox widget and the chat panel; only the user's number, now.

Lists are keyset-paginated on (last_message_at, id), newest first, with a row-value
predicate `(last_message_at, id) < (t, n)` over the `conversation_inbox` index
(number, -last_message_at, -id); unread lists use the partial index of migration 0002.
Never OFFSET: page 1,000 costs what page 1 costs.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection

from hiretext.accounts.models import User
from hiretext.ats import queries as ats_queries
from hiretext.ats.models import Candidate, Contact
from hiretext.inbox import events
from hiretext.lib import loaded, prepared
from hiretext.lib.errors import ValidationFailed
from hiretext.lib.pagination import MAX_PAGE_SIZE, decode_cursor, encode_cursor
from hiretext.messaging.models import Conversation
from hiretext.numbers.models import PhoneNumber
from hiretext.numbers.queries import number_for_user

PAGE_SIZE = 25
# How much of the latest message a list row reads; rows show at most 90 characters.
SNIPPET_CHARACTERS = 200
SEARCH_LIMIT = 10


def unread_count(user: User, number: PhoneNumber | None = None) -> int:
    """Unread conversations on the user's number (the bell's figure)."""
    number = number or number_for_user(user)
    return events.unread_count(number.pk if number is not None else None)


@cache
def _page_statement(vendor: str, unread_only: bool, after: bool) -> str:
    """One page of a number's list, newest first, as one plain SELECT (prepared on
    PostgreSQL): the ORM spent longer building this query than the database running it.

    Each row comes with its person and the start of its latest message (index
    `message_thread`): lists show a line of it, and an e-mail's body can run to hundreds of
    kilobytes. SNIPPET_CHARACTERS leaves room for combining marks, which `truncatechars`
    does not count. `WHERE unread` is the partial index's own condition (migration 0002).
    """
    latest = "FROM messaging_message m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1"
    where = ["c.number_id = %s", "c.last_message_at IS NOT NULL"]
    if unread_only:
        where.append("c.unread")
    if after:
        where.append("(c.last_message_at, c.id) < (%s, %s)")
    return (
        f"SELECT {loaded.columns(Conversation, 'c')}, {loaded.columns(Candidate, 'ca')}, "  # noqa: S608 - names from models
        f"{loaded.columns(Contact, 'ct')}, "
        f"(SELECT substr(m.body, 1, {SNIPPET_CHARACTERS}) {latest}), "
        f"(SELECT m.direction {latest}) "
        "FROM messaging_conversation c "
        "LEFT JOIN ats_candidate ca ON ca.id = c.candidate_id "
        "LEFT JOIN ats_contact ct ON ct.id = c.contact_id "
        f"WHERE {' AND '.join(where)} ORDER BY c.last_message_at DESC, c.id DESC LIMIT %s"
    )


def _page_rows(
    number: PhoneNumber, unread_only: bool, after: tuple[datetime, int] | None, limit: int
) -> list[Conversation]:
    params: list[object] = [number.pk]
    if after is not None:
        params += [connection.ops.adapt_datetimefield_value(after[0]), after[1]]
    rows = prepared.fetchall(
        _page_statement(connection.vendor, unread_only, after is not None), [*params, limit]
    )
    at_candidate = loaded.width(Conversation)
    at_contact = at_candidate + loaded.width(Candidate)
    at_latest = at_contact + loaded.width(Contact)
    page = []
    for row in rows:
        conversation = loaded.build(Conversation, row)
        assert conversation is not None
        conversation.candidate = loaded.build(Candidate, row, at_candidate)
        conversation.contact = loaded.build(Contact, row, at_contact)
        conversation.number = number
        # What the ORM's annotate() would set: the row's line in the list.
        conversation.last_body = row[at_latest]  # type: ignore[attr-defined]
        conversation.last_direction = row[at_latest + 1]  # type: ignore[attr-defined]
        page.append(conversation)
    return page


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
    after = _decode(cursor) if cursor else None
    rows = _page_rows(number, unread_only, after, limit + 1)
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
