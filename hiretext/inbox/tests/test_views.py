"""The bell, widget, chat panel, setting, API and the stream view (WSGI): rights, input, queries."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hiretext.inbox import events, queries
from hiretext.inbox.models import Event
from hiretext.inbox.tests.conftest import inbound
from hiretext.inbox.tests.test_events import parse
from hiretext.messaging import queries as messaging_queries
from hiretext.messaging.models import Conversation, Message
from hiretext.messaging.tests.conftest import make_candidate
from hiretext.numbers import services as number_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def replied(team, alex, client, immediate):
    inbound(client, "Yes <b>please</b>")
    client.logout()
    return Conversation.objects.get()


def many_conversations(number, org, actor, n, *, unread_every=2):
    """n conversations on `number`, each with one inbound message; newest last."""
    now = timezone.now()
    made = []
    for i in range(n):
        person = make_candidate(org, actor, mobile=f"+1415555{2000 + i:04d}", first=f"P{i:03d}")
        c = Conversation.objects.create(
            organization=org,
            number=number,
            candidate=person,
            phone=person.mobile,
            last_message_at=now - timedelta(minutes=n - i),
            unread=i % unread_every == 0,
        )
        Message.objects.create(
            organization=org,
            conversation=c,
            direction="in",
            body=f"hello {i}",
            status="received",
            carrier="simulator",
        )
        made.append(c)
    return made


# --- the bell and the widget -----------------------------------------------------------------


def test_the_page_has_the_bell_and_chat_link_but_no_extra_queries(team, client):
    _, _, r1, _, _ = team
    client.force_login(r1)
    page = client.get("/candidates/").content.decode()
    assert 'id="inbox-bell"' in page and 'hx-get="/inbox/bell/"' in page
    assert 'aria-label="Chats"' in page and 'href="/inbox/chats/"' in page


def test_managers_without_texting_see_no_bell(team, manager, client):
    client.force_login(manager)
    page = client.get("/candidates/").content.decode()
    assert "inbox-bell" not in page
    assert client.get("/inbox/bell/").status_code == 403


def test_bell_counts_unread_conversations_of_my_number(team, replied, client):
    _, _, r1, r2, r3 = team
    for user, count in ((r1, 1), (r2, 1), (r3, 0)):
        client.force_login(user)
        html = client.get("/inbox/bell/").content.decode()
        label = f"Notifications: {count} unread conversation{'s' if count != 1 else ''}"
        assert label in html
        assert f'data-last-event-id="{events.latest_id()}"' in html
        assert 'data-stream-url="/inbox/events"' in html


def test_bell_and_widget_query_counts_do_not_grow(team, org, client, django_assert_max_num_queries):
    number, _, r1, _, _ = team
    many_conversations(number, org, r1, 3, unread_every=1)
    client.force_login(r1)
    client.get("/inbox/widget/")  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        assert client.get("/inbox/widget/").status_code == 200
    with CaptureQueriesContext(connection) as bell_few:
        assert client.get("/inbox/bell/").status_code == 200
    many_conversations(number, org, r1, 12, unread_every=1)
    with CaptureQueriesContext(connection) as lots:
        html = client.get("/inbox/widget/").content.decode()
    assert len(lots) <= len(few) + 1  # + the count once the list is cut at 10
    assert html.count('class="name"') == 10
    with django_assert_max_num_queries(len(bell_few)):
        client.get("/inbox/bell/")


def test_widget_escapes_and_lists_only_unread(team, replied, client):
    _, _, r1, _, r3 = team
    client.force_login(r1)
    html = client.get("/inbox/widget/").content.decode()
    assert "Alex Rivera" in html and "Yes &lt;b&gt;please&lt;/b&gt;" in html
    assert "<b>please</b>" not in html
    Conversation.objects.update(unread=False)
    assert "No unread conversations" in client.get("/inbox/widget/").content.decode()
    client.force_login(r3)
    assert "Alex Rivera" not in client.get("/inbox/widget/").content.decode()


def test_widget_without_a_number_says_so(org, client, make_user):
    lonely = make_user("lonely@acme.test")
    client.force_login(lonely)
    assert "not on a texting number" in client.get("/inbox/widget/").content.decode()


# --- the chat panel --------------------------------------------------------------------------


def test_opening_a_conversation_reads_it_for_everyone(team, replied, client):
    _, _, r1, r2, _ = team
    client.force_login(r1)
    html = client.get(f"/inbox/chats/{replied.pk}/").content.decode()
    assert "Yes &lt;b&gt;please&lt;/b&gt;" in html and "<b>please</b>" not in html
    replied.refresh_from_db()
    assert replied.unread is False
    client.force_login(r2)
    assert "Notifications: 0 unread" in client.get("/inbox/bell/").content.decode()
    read = Event.objects.filter(kind=Event.Kind.READ).get()
    assert read.conversation_id == replied.pk and read.data["by"] == "Dana Li"


def test_other_number_and_other_org_get_404(team, replied, client, other_admin):
    _, _, _, _, r3 = team
    for user in (r3, other_admin):
        client.force_login(user)
        for url in (f"/inbox/chats/{replied.pk}/", f"/inbox/chats/{replied.pk}/thread/"):
            assert client.get(url).status_code == 404
    replied.refresh_from_db()
    assert replied.unread is True


@pytest.mark.parametrize("conversation_id", ["0", str(2**63), str(10**30)])
def test_impossible_conversation_ids_get_404(team, client, conversation_id):
    _, _, r1, _, _ = team
    client.force_login(r1)
    for url in (f"/inbox/chats/{conversation_id}/", f"/inbox/chats/{conversation_id}/thread/"):
        assert client.get(url).status_code == 404


def test_open_conversation_comes_with_its_number_and_person(team, replied):
    """The page's one read loads what the page shows (no query per attribute)."""
    number, _, r1, _, _ = team
    with CaptureQueriesContext(connection) as reads:
        found = messaging_queries.access_conversation(r1, replied.pk)
        shown = (found.number.e164, found.person.full_name, found.phone, found.unread)
    assert len(reads) == 1
    assert found == replied and found.number == number and found.person == replied.person
    assert shown == (number.e164, replied.person.full_name, replied.phone, True)


def test_thread_comes_with_senders_email_details_and_conversation(team, org, replied):
    """The bubbles' one read loads what they show, as select_related would."""
    from hiretext.mail.models import EmailDetails

    _, _, r1, _, _ = team
    sent = replied.messages.create(
        organization=org, direction="out", body="Hi", status="queued", sender=r1
    )
    mailed = replied.messages.create(
        organization=org, direction="out", channel="email", body="Dear", status="sent", sender=r1
    )
    EmailDetails.objects.create(
        message=mailed, subject="Interview <b>", from_address="a@x.test", to_address="b@x.test"
    )
    with CaptureQueriesContext(connection) as reads:
        found = messaging_queries.thread(replied, 2)
        assert [m.pk for m in found] == [sent.pk, mailed.pk]
        assert [m.sender.display_name for m in found] == [r1.display_name] * 2
        assert found[1].email.subject == "Interview <b>" and found[1].email.message is found[1]
        assert all(m.conversation is replied for m in found)
        with pytest.raises(EmailDetails.DoesNotExist):
            _ = found[0].email
    assert len(reads) == 1
    oldest = messaging_queries.thread(replied, 3)[0]
    assert oldest.direction == "in" and oldest.sender is None


def test_removed_user_loses_the_conversation_at_once(team, replied, client, admin):
    number, _, _, r2, _ = team
    client.force_login(r2)
    assert client.get(f"/inbox/chats/{replied.pk}/").status_code == 200
    number_services.remove_user(admin, number.seat, r2.pk)
    assert client.get(f"/inbox/chats/{replied.pk}/").status_code == 404
    assert "not assigned to a texting number" in client.get("/inbox/chats/").content.decode()


def test_chat_list_is_keyset_paginated_with_constant_queries(team, org, client):
    number, _, r1, _, _ = team
    made = many_conversations(number, org, r1, 30)
    client.force_login(r1)
    client.get("/inbox/chats/list/")
    with CaptureQueriesContext(connection) as first:
        html = client.get("/inbox/chats/list/").content.decode()
    names = [c.candidate.first_name for c in reversed(made)]
    assert html.index(names[0]) < html.index(names[24])
    assert names[25] not in html
    cursor = html.split("?cursor=")[1].split('"')[0].replace("&amp;", "&")
    with CaptureQueriesContext(connection) as second:
        page2 = client.get(f"/inbox/chats/list/?cursor={cursor}").content.decode()
    assert len(second) == len(first)
    assert all(n in page2 for n in names[25:]) and names[24] not in page2
    sql = " ".join(q["sql"] for q in second.captured_queries)
    assert "OFFSET" not in sql.upper()
    assert "(c.last_message_at, c.id) < (" in sql


def test_list_rows_link_each_conversation_and_show_the_start_of_long_bodies(team, org, client):
    number, _, r1, _, _ = team
    made = many_conversations(number, org, r1, 3)
    long_body = "É" + "x" * 5000  # an e-mail's body can be long; a row shows its start
    made[0].messages.create(organization=org, direction="in", body=long_body, status="received")
    client.force_login(r1)
    html = client.get("/inbox/chats/list/").content.decode()
    for conversation in made:
        url = reverse("inbox:chat", args=[conversation.pk])
        assert f'href="{url}" hx-get="{url}"' in html
    assert "É" + "x" * 68 + "…" in html and "x" * 70 not in html
    row = queries.inbox(r1).conversations[-1]
    assert row.pk == made[0].pk and len(row.last_body) == queries.SNIPPET_CHARACTERS


def test_unread_filter_and_bad_cursors(team, org, client):
    number, _, r1, _, _ = team
    many_conversations(number, org, r1, 6, unread_every=3)
    client.force_login(r1)
    html = client.get("/inbox/chats/list/?unread=1").content.decode()
    assert html.count("chat-item unread") == 2 and html.count('class="chat-item"') == 0
    for bad in ("x", "W10", "WyJ4IiwxXQ", "A" * 600, "%00", "WyIyMDI2LTAxLTAxIiwxXQ"):
        response = client.get(f"/inbox/chats/?cursor={bad}")
        assert response.status_code == 200  # a bad cursor starts from the newest
        assert response.content.decode().count("chat-item") >= 6


def test_inbox_query_uses_the_row_value_predicate(team, org):
    number, _, r1, _, _ = team
    many_conversations(number, org, r1, 5)
    first = queries.inbox(r1, limit=2)
    second = queries.inbox(r1, limit=2, cursor=first.next_cursor)
    third = queries.inbox(r1, limit=2, cursor=second.next_cursor)
    seen = [c.pk for page in (first, second, third) for c in page.conversations]
    assert len(seen) == len(set(seen)) == 5 and third.next_cursor is None


def test_people_search_by_name_within_the_organisation(team, alex, org, client, other_admin):
    from hiretext.ats.models import Candidate

    _, _, r1, _, _ = team
    Candidate.objects.create(
        organization=other_admin.organization, first_name="Alex", last_name="Elsewhere"
    )
    client.force_login(r1)
    html = client.get("/inbox/chats/people/?q=alex").content.decode()
    assert "Alex Rivera" in html and "Elsewhere" not in html
    assert f"/inbox/chats/with/candidate/{alex.pk}/" in html
    hostile = client.get("/inbox/chats/people/?q=<img src=x onerror=alert(1)>" + "x" * 500)
    assert hostile.status_code == 200 and "<img" not in hostile.content.decode()
    assert client.get("/inbox/chats/people/?q=%00").status_code == 200


def test_start_chat_then_send_continues_the_same_conversation(team, alex, client, immediate):
    _, _, r1, r2, _ = team
    client.force_login(r1)
    pane = client.get(f"/inbox/chats/with/candidate/{alex.pk}/", headers={"HX-Target": "chat-pane"})
    assert 'id="chat-body"' in pane.content.decode()
    response = client.post(
        f"/inbox/chats/with/candidate/{alex.pk}/send/",
        {"body": "Hi <Alex>", "idempotency_key": "k1"},
        headers={"HX-Request": "true", "HX-Target": "chat-pane"},
    )
    conversation = Conversation.objects.get()
    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"/inbox/chats/{conversation.pk}/"
    html = response.content.decode()
    assert "Hi &lt;Alex&gt;" in html and "tick-delivered" in html
    # The same key again sends nothing more; the profile's person link finds the chat.
    client.post(
        f"/inbox/chats/with/candidate/{alex.pk}/send/",
        {"body": "Hi <Alex>", "idempotency_key": "k1"},
    )
    assert Message.objects.count() == 1
    client.force_login(r2)
    redirect = client.get(f"/inbox/chats/with/candidate/{alex.pk}/")
    assert (
        redirect.status_code == 302 and redirect["Location"] == f"/inbox/chats/{conversation.pk}/"
    )


def test_composer_refusals_are_shown_not_500(team, alex, client, immediate):
    _, _, r1, _, _ = team
    client.force_login(r1)
    url = f"/inbox/chats/with/candidate/{alex.pk}/send/"
    assert client.post(url, {"body": "   "}).status_code == 422
    too_long = client.post(url, {"body": "x" * 20_000})
    assert too_long.status_code == 422 and "too long" in too_long.content.decode()
    assert client.post(url, {"body": "hi", "category": "rejection"}).status_code == 422
    assert client.post("/inbox/chats/with/robot/1/send/", {"body": "hi"}).status_code == 404
    assert (
        client.post(f"/inbox/chats/with/candidate/{2**70}/send/", {"body": "hi"}).status_code == 404
    )
    assert client.get(url).status_code == 405
    assert Message.objects.count() == 0


def test_composer_needs_csrf(team, alex):
    from django.test import Client

    _, _, r1, _, _ = team
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(r1)
    response = strict.post(f"/inbox/chats/with/candidate/{alex.pk}/send/", {"body": "hi"})
    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_pages_need_login_and_texting_permission(team, manager, client, replied):
    for url in ("/inbox/chats/", "/inbox/widget/", f"/inbox/chats/{replied.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(manager)
    assert client.get("/inbox/chats/").status_code == 403


# --- the setting -----------------------------------------------------------------------------


def test_notification_setting_page(team, client):
    _, _, r1, _, _ = team
    client.force_login(r1)
    assert "checked" in client.get("/inbox/settings/").content.decode()
    client.post("/inbox/settings/", {})
    r1.refresh_from_db()
    assert r1.notify_on_reply is False
    client.post("/inbox/settings/", {"notify_on_reply": "on"})
    r1.refresh_from_db()
    assert r1.notify_on_reply is True
    client.logout()
    assert client.get("/inbox/settings/").status_code == 302


# --- the API ---------------------------------------------------------------------------------


def test_api_read_and_unread_filter(team, replied, api_as, django_assert_max_num_queries):
    _, _, r1, r2, r3 = team
    api = api_as(r1)
    items = api.get("/conversations?unread=true").json()["items"]
    assert [c["id"] for c in items] == [replied.pk] and items[0]["unread"] is True
    response = api.post(f"/conversations/{replied.pk}/read")
    assert response.status_code == 200 and response.json()["unread"] is False
    assert api_as(r2).get("/conversations?unread=true").json()["items"] == []
    assert api.post(f"/conversations/{replied.pk}/read").status_code == 200  # idempotent
    assert Event.objects.filter(kind="read").count() == 1
    third = api_as(r3).post(f"/conversations/{replied.pk}/read")
    assert third.status_code == 404 and third.json()["code"] == "not_found"
    assert api_as(None).post(f"/conversations/{replied.pk}/read").status_code == 401
    assert api.post("/conversations/abc/read").status_code == 400
    assert api.post(f"/conversations/{2**70}/read").status_code in (400, 404)


def test_api_list_query_count_is_constant(team, org, api_as, django_assert_max_num_queries):
    number, _, r1, _, _ = team
    many_conversations(number, org, r1, 3)
    api = api_as(r1)
    with CaptureQueriesContext(connection) as few:
        api.get("/conversations?unread=true")
    many_conversations(number, org, r1, 20)
    with django_assert_max_num_queries(len(few)):
        assert len(api.get("/conversations").json()["items"]) == 23


# --- the stream view (WSGI driver here; tests/test_asgi_stream.py runs the ASGI one) ---------


@pytest.fixture
def short_streams(settings):
    settings.HIRETEXT_EVENTS_MAX_SECONDS = 0.3
    settings.HIRETEXT_EVENTS_POLL_SECONDS = 0.02
    settings.HIRETEXT_EVENTS_HEARTBEAT_SECONDS = 0.1
    settings.HIRETEXT_EVENTS_RETRY_MS = 1500
    settings.HIRETEXT_EVENTS_WSGI_HOLD_SECONDS = 0.3


def read_stream(client, url="/inbox/events", **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content
    return response, b"".join(response.streaming_content).decode()


def test_stream_refuses_anonymous_users_and_managers(team, manager, client, short_streams):
    response = client.get("/inbox/events")
    assert response.status_code == 401 and response["Content-Type"].startswith("text/plain")
    client.force_login(manager)
    assert client.get("/inbox/events").status_code == 403
    client.force_login(team[2])
    assert client.post("/inbox/events").status_code in (403, 405)


def test_stream_sends_retry_heartbeats_state_and_events(team, client, short_streams):
    number, _, r1, _, r3 = team
    old = events.publish(Event.Kind.MESSAGE, number_id=number.pk, conversation_id=1)
    new = events.publish(Event.Kind.MESSAGE, number_id=number.pk, conversation_id=2)
    client.force_login(r1)
    response, text = read_stream(client, f"/inbox/events?after={old.pk}")
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response["Cache-Control"] == "no-cache, no-store"
    assert response["X-Accel-Buffering"] == "no"
    assert text.startswith("retry: 1500\n")
    assert ": keep-alive" in text
    frames = parse(text)
    assert [(i, kind) for i, kind, _ in frames] == [(str(new.pk), "message"), (None, "state")]
    client.force_login(r3)
    assert [kind for _, kind, _ in parse(read_stream(client, "/inbox/events?after=0")[1])] == [
        "state"
    ]


def test_under_wsgi_by_default_the_stream_answers_and_closes(team, client, settings):
    """Sync workers are not held: what is there, then `retry:` (the browser asks again)."""
    number, _, r1, _, _ = team
    event = events.publish("message", number_id=number.pk, conversation_id=1)
    client.force_login(r1)
    response, text = read_stream(client, "/inbox/events?after=0")
    assert text.startswith("retry: 1000\n\n")
    assert [(i, kind) for i, kind, _ in parse(text)] == [
        (str(event.pk), "message"),
        (None, "state"),
    ]
    assert "keep-alive" not in text


def test_last_event_id_header_wins_over_the_query(team, client, short_streams):
    number, _, r1, _, _ = team
    ids = [events.publish("message", number_id=number.pk, conversation_id=1).pk for _ in range(3)]
    client.force_login(r1)
    _, text = read_stream(client, "/inbox/events?after=0", **{"Last-Event-ID": str(ids[1])})
    assert [i for i, _, _ in parse(text) if i] == [str(ids[2])]


@pytest.mark.parametrize("bad", ["abc", "-5", "1" * 40, "１", "0x10", " "])
def test_a_hostile_last_event_id_starts_from_now(team, client, short_streams, bad):
    number, _, r1, _, _ = team
    events.publish("message", number_id=number.pk, conversation_id=1)
    client.force_login(r1)
    _, text = read_stream(client, f"/inbox/events?after={bad}", **{"Last-Event-ID": bad})
    assert [kind for _, kind, _ in parse(text)] == ["state"]


def test_event_data_is_json_not_html(team, replied, client, short_streams):
    _, _, r1, _, _ = team
    client.force_login(r1)
    _, text = read_stream(client, "/inbox/events?after=0")
    (message,) = [data for _, kind, data in parse(text) if kind == "message"]
    assert set(message) == {
        "kind",
        "conversation_id",
        "message_id",
        "unread",
        "direction",
        "status",
    }
    assert "please" not in text  # bodies never travel in events
    assert json.dumps(message)


def test_the_chat_composer_sends_email_too(team, alex, client, immediate):
    """Seed 003: the chat's composer chooses SMS or e-mail (the shared composer)."""
    _, _, r1, _, _ = team
    alex.email = "alex@example.com"
    alex.save()
    client.force_login(r1)
    url = f"/inbox/chats/with/candidate/{alex.pk}/send/"
    missing = client.post(url, {"channel": "email", "body": "Hello", "subject": ""})
    assert missing.status_code == 422
    assert Message.objects.count() == 0
    sent = client.post(
        url, {"channel": "email", "subject": "Interview <Tuesday>", "body": "See you then"}
    )
    assert sent.status_code == 200
    message = Message.objects.get()
    assert message.channel == "email" and message.body == "See you then"
    html = sent.content.decode()
    assert "Interview &lt;Tuesday&gt;" in html and "Interview <Tuesday>" not in html


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner, read by EXPLAIN")
@pytest.mark.parametrize("unread_only", [False, True])
@pytest.mark.parametrize("after", [False, True])
def test_list_pages_walk_their_index_without_sorting(team, org, unread_only, after):
    """Every list page, first or deeper, all or unread, is a range of an index of the
    number's conversations in list order (which one is the planner's choice): no sort."""
    number, _, r1, _, _ = team
    many_conversations(number, org, r1, 3)
    sql = queries._page_statement(connection.vendor, unread_only, after)
    params = [number.pk, *(["2026-01-01 00:00:00", 10] if after else []), 26]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
    assert re.search(
        r"SEARCH c USING INDEX (conversation_inbox|inbox_conversation_unread) \(number_id=\?", plan
    ), plan
    assert "TEMP B-TREE" not in plan, plan
