"""The send path's common case: PostgreSQL writes it as one statement, and what it writes
is what the general path writes; either way a key is sent once, whatever runs at once."""

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from hiretext.accounts.models import ApiToken
from hiretext.ats.models import ActivityEntry
from hiretext.messaging import acceptance
from hiretext.messaging.models import Message
from hiretext.messaging.tests.conftest import parallel_api_posts
from hiretext.numbers.allowance import used_this_month

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's"
)
SKIPPED = {"id", "idempotency_key", "created_at", "updated_at"}


def send(api, person, key):
    body = {"candidate_id": person.pk, "body": "Can you talk at 10? Reply <b>YES</b>"}
    return api.post("/messages", body, headers={"Idempotency-Key": key})


def written(message_id):
    """The message, its timeline line and its delivery task, without ids and times."""
    message = {
        k: v
        for k, v in Message.objects.filter(pk=message_id).values().get().items()
        if k not in SKIPPED
    }
    entry = (
        ActivityEntry.objects.filter(ref_id=message_id, kind="sms_out")
        .values("candidate_id", "contact_id", "organization_id", "summary", "body", "actor_id")
        .get()
    )
    task = (
        DBTaskResult.objects.filter(args_kwargs__args=[message_id])
        .values("task_path", "queue_name", "priority", "status", "backend_name", "args_kwargs")
        .get()
    )
    task["args_kwargs"]["args"] = ["<message>"]
    return message, entry, task


@ON_POSTGRESQL
def test_one_statement_writes_what_the_general_path_writes(
    api_as, recruiter, alex, number, monkeypatch
):
    api = api_as(recruiter)
    first = send(api, alex, "first")  # opens the conversation (general path)
    assert first.status_code == 202
    calls = []
    real = acceptance.accept_in_one_statement
    monkeypatch.setattr(acceptance, "accept_in_one_statement", lambda r: calls.append(r) or real(r))
    fast = send(api, alex, "fast")
    assert fast.status_code == 202 and len(calls) == 1
    message = Message.objects.select_related("conversation").get(pk=fast.json()["id"])
    entry = ActivityEntry.objects.get(ref_id=message.pk, kind="sms_out")
    assert entry.created_at == message.created_at == message.conversation.last_message_at
    monkeypatch.setattr(acceptance, "accept_in_one_statement", lambda r: None)
    general = send(api, alex, "general")
    assert general.status_code == 202
    assert written(fast.json()["id"]) == written(general.json()["id"])
    assert fast.json().keys() == general.json().keys()
    assert used_this_month(number) == 3
    conversation = Message.objects.get(pk=fast.json()["id"]).conversation
    assert conversation.last_message_at == Message.objects.get(pk=general.json()["id"]).created_at


def test_the_statement_stays_within_psycopgs_cached_conversion():
    """psycopg converts a statement's placeholders once, and caches that, only up to its
    limit of values; beyond it, the long statement is parsed again on every send."""
    from psycopg import _queries

    for with_task in (False, True):
        count = acceptance._statement.__wrapped__(with_task).count("%s")
        assert count <= _queries.MAX_CACHED_STATEMENT_PARAMS, count


@ON_POSTGRESQL
def test_allowance_short_of_the_text_falls_back_and_writes_nothing_first(
    api_as, recruiter, alex, number
):
    api = api_as(recruiter)
    assert send(api, alex, "opens").status_code == 202
    number.monthly_allowance = 1
    number.save(update_fields=["monthly_allowance"])
    refused = send(api, alex, "refused")
    assert (refused.status_code, refused.json()["code"]) == (422, "allowance_exhausted")
    assert Message.objects.count() == 1 and used_this_month(number) == 1
    assert ActivityEntry.objects.filter(kind="sms_out").count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_sends_with_one_key_send_once(recruiter, alex, number):
    _, token = ApiToken.issue(recruiter)
    Client().post(  # the conversation exists: PostgreSQL's one-statement path is taken
        "/api/v1/messages",
        data={"candidate_id": alex.pk, "body": "Hello"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    clients = 8
    payload = {"candidate_id": alex.pk, "body": "Same text"}
    answers = parallel_api_posts(token, [payload] * clients, ["once"] * clients)
    results = [(status, body["id"]) for status, body in answers]
    assert {status for status, _ in results} == {202}
    assert len({message_id for _, message_id in results}) == 1
    assert Message.objects.filter(idempotency_key="once").count() == 1
    assert used_this_month(number) == 2


def _events_of(message_id):
    from hiretext.inbox.models import Event

    return list(
        Event.objects.filter(message_id=message_id).values_list(
            "kind", "number_id", "conversation_id", "data"
        )
    )


@pytest.fixture
def post_as_recruiter(recruiter, alex, number):
    """POST a text to Alex with the recruiter's token; the conversation exists before the
    test's first send."""
    _, token = ApiToken.issue(recruiter)
    client = Client(headers={"Authorization": f"Bearer {token}"})

    def post(key, body="Can you talk at 10?"):
        return client.post(
            "/api/v1/messages",
            data={"candidate_id": alex.pk, "body": body},
            content_type="application/json",
            headers={"Idempotency-Key": key} if key else {},
        )

    assert post("opens").status_code == 202
    return post


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)  # autocommit, as a web worker runs
@pytest.mark.parametrize("key", ["with-a-key", ""])
def test_the_send_and_its_event_are_one_round_trip(post_as_recruiter, number, key):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        answer = post_as_recruiter(key)
    assert answer.status_code == 202
    executed = [q["sql"] for q in queries if not q["sql"].startswith("PREPARE")]
    with_events = [sql for sql in executed if "inbox_event" in sql or "_event" in sql]
    assert len(with_events) == 1, [sql[:80] for sql in executed]
    assert "EXECUTE hx_accept_" in with_events[0]
    message = Message.objects.get(pk=answer.json()["id"])
    queued = {"direction": "out", "status": "queued"}
    assert _events_of(message.pk) == [("message", number.pk, message.conversation_id, queued)]


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_send_the_allowance_refuses_writes_no_event_for_the_one_before(post_as_recruiter, number):
    from hiretext.inbox.models import Event

    first = post_as_recruiter("paid")
    assert first.status_code == 202
    assert len(_events_of(first.json()["id"])) == 1
    number.monthly_allowance = used_this_month(number)
    number.save(update_fields=["monthly_allowance"])
    events_before = Event.objects.count()
    refused = post_as_recruiter("refused")
    assert (refused.status_code, refused.json()["code"]) == (422, "allowance_exhausted")
    assert Event.objects.count() == events_before
    assert len(_events_of(first.json()["id"])) == 1


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_an_event_that_fails_after_the_send_committed_is_written_by_the_listener(
    post_as_recruiter, number, monkeypatch
):
    from django.db import DatabaseError

    from hiretext.inbox import events
    from hiretext.lib import prepared

    def store_then_fail(statement, *args, **kwargs):
        _, sql, params = statement
        prepared.fetchone(sql, params)  # committed (autocommit)
        raise DatabaseError("the event's transaction failed")

    monkeypatch.setattr(events, "run_then_publish", store_then_fail)
    answer = post_as_recruiter("late")
    assert answer.status_code == 202
    message = Message.objects.get(pk=answer.json()["id"])
    assert message.idempotency_key == "late"
    assert _events_of(message.pk) == [
        ("message", number.pk, message.conversation_id, {"direction": "out", "status": "queued"})
    ]


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_failure_before_the_send_was_stored_is_raised_and_stores_nothing(
    post_as_recruiter, monkeypatch
):
    from django.db import DatabaseError

    from hiretext.inbox import events

    def fail(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(events, "run_then_publish", fail)
    answer = post_as_recruiter("lost")
    assert answer.status_code == 500
    assert answer["Content-Type"] == "application/problem+json"
    assert not Message.objects.filter(idempotency_key="lost").exists()


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_the_send_makes_the_server_raise_no_warning(post_as_recruiter):
    connection.ensure_connection()
    notices = []
    connection.connection.add_notice_handler(lambda d: notices.append(d.message_primary))
    try:
        assert post_as_recruiter("quiet").status_code == 202
    finally:
        connection.connection._notice_handlers.clear()
    assert notices == []
