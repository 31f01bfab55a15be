"""What reading costs: a repeat view writes nothing; lists walk one number's index in order."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hiretext.inbox import services
from hiretext.inbox.models import Attention, Event
from hiretext.inbox.tests.test_views import many_conversations
from hiretext.messaging.models import Conversation
from hiretext.numbers import services as number_services

pytestmark = pytest.mark.django_db(transaction=True)

WRITES = ("INSERT", "UPDATE", "DELETE", "BEGIN", "SAVEPOINT")


def writes(captured):
    return [
        q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)
    ]


# --- the conversation page -------------------------------------------------------------------


def test_a_repeat_view_of_a_read_conversation_writes_nothing(team, org, client):
    number, _, r1, _, _ = team
    conversation = many_conversations(number, org, r1, 3, unread_every=1)[-1]
    client.force_login(r1)
    url = f"/inbox/chats/{conversation.pk}/"
    with CaptureQueriesContext(connection) as first:
        assert client.get(url).status_code == 200
    assert writes(first)  # read for everyone, and the user is looking at it
    with CaptureQueriesContext(connection) as repeat:
        assert client.get(url).status_code == 200
    assert writes(repeat) == []
    # Session, user, organisation, permissions; then the conversation, the attention mark,
    # the composer (opt-out, number), the thread and the list: no lookups per message/row.
    assert len(repeat) <= 11 < len(first)
    with CaptureQueriesContext(connection) as thread:
        assert client.get(f"{url}thread/").status_code == 200
    assert writes(thread) == []
    assert Event.objects.filter(kind=Event.Kind.READ).count() == 1


def test_the_page_query_count_does_not_grow_with_the_thread_or_the_list(team, org, client):
    number, _, r1, _, _ = team
    conversation = many_conversations(number, org, r1, 2)[-1]
    client.force_login(r1)
    url = f"/inbox/chats/{conversation.pk}/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    many_conversations(number, org, r1, 20)
    for k in range(10):
        conversation.messages.create(
            organization=org, direction="out", body=f"b{k}", status="sent", sender=r1
        )
    with CaptureQueriesContext(connection) as lots:
        html = client.get(url).content.decode()
    assert len(lots) == len(few)
    assert "b9" in html and html.count('class="chat-item') >= 20


def test_a_new_message_makes_the_next_view_read_it_again(team, org, client):
    number, _, r1, r2, _ = team
    conversation = many_conversations(number, org, r1, 1, unread_every=1)[0]
    client.force_login(r1)
    client.get(f"/inbox/chats/{conversation.pk}/")
    Conversation.objects.filter(pk=conversation.pk).update(unread=True)  # a reply came in
    client.force_login(r2)
    client.get(f"/inbox/chats/{conversation.pk}/thread/")
    conversation.refresh_from_db()
    assert conversation.unread is False
    reads = Event.objects.filter(kind=Event.Kind.READ).order_by("id")
    assert [e.data["by"] for e in reads] == ["Dana Li", "Sam Okafor"]


def test_touch_seen_writes_at_most_once_per_few_seconds(team, org):
    number, _, r1, _, _ = team
    conversation = many_conversations(number, org, r1, 1)[0]
    now = timezone.now()
    with CaptureQueriesContext(connection) as created:
        services.touch_seen(r1, conversation, now)
    assert Attention.objects.get(user=r1, conversation=conversation).seen_at == now
    assert len(writes(created)) >= 1
    soon = now + services.SEEN_WRITE_EVERY - timedelta(milliseconds=1)
    with CaptureQueriesContext(connection) as fresh:
        services.touch_seen(r1, conversation, soon)
    assert writes(fresh) == [] and len(fresh) == 1
    later = now + services.SEEN_WRITE_EVERY + timedelta(seconds=1)
    services.touch_seen(r1, conversation, later)
    assert Attention.objects.get(user=r1, conversation=conversation).seen_at == later


def test_touch_seen_fills_in_a_mark_that_only_throttled_e_mails(team, org):
    number, _, r1, _, _ = team
    conversation = many_conversations(number, org, r1, 1)[0]
    Attention.objects.create(user=r1, conversation=conversation, notified_at=timezone.now())
    now = timezone.now()
    services.touch_seen(r1, conversation, now)
    row = Attention.objects.get(user=r1, conversation=conversation)
    assert row.seen_at == now and row.notified_at is not None


# --- the API conversation list ---------------------------------------------------------------


def test_api_list_filters_by_the_number_and_pages_by_row_value(team, org, api_as):
    number, other, r1, _, r3 = team
    mine = many_conversations(number, org, r1, 5)
    theirs = many_conversations(other, org, r3, 2)
    api = api_as(r1)
    api.get("/conversations")  # warm the token and permission caches
    with CaptureQueriesContext(connection) as captured:
        first = api.get("/conversations?limit=3").json()
    assert [c["id"] for c in first["items"]] == [c.pk for c in reversed(mine)][:3]
    assert {c["number"] for c in first["items"]} == {number.e164}
    with CaptureQueriesContext(connection) as paged:
        second = api.get(f"/conversations?limit=3&cursor={first['next_cursor']}").json()
    assert [c["id"] for c in second["items"]] == [mine[1].pk, mine[0].pk]
    assert second["next_cursor"] is None
    assert len(paged) == len(captured)
    sql = next(
        q["sql"] for q in paged.captured_queries if 'FROM "messaging_conversation"' in q["sql"]
    )
    assert "seatassignment" not in sql and f'"number_id" = {number.pk}' in sql
    assert '("messaging_conversation"."last_message_at", "messaging_conversation"."id") <' in sql
    assert "OFFSET" not in sql.upper()
    assert [c["id"] for c in api_as(r3).get("/conversations").json()["items"]] == [
        c.pk for c in reversed(theirs)
    ]


def test_api_list_visibility_follows_the_seat_at_once(team, org, api_as, admin, other_admin):
    number, _, r1, r2, _ = team
    many_conversations(number, org, r1, 2)
    assert len(api_as(r2).get("/conversations").json()["items"]) == 2
    number_services.remove_user(admin, number.seat, r2.pk)
    assert api_as(r2).get("/conversations").json() == {"items": [], "next_cursor": None}
    assert api_as(other_admin).get("/conversations").json()["items"] == []
    # A bad cursor is refused whoever asks, with or without a number.
    for user in (r1, r2):
        response = api_as(user).get("/conversations?cursor=x")
        assert response.status_code == 400 and response.json()["code"] == "validation_error"
