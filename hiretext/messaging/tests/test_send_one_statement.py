"""The send path's common case: PostgreSQL writes it as one statement, and what it writes
is what the general path writes; either way a key is sent once, whatever runs at once."""

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from hiretext.accounts.models import ApiToken
from hiretext.ats.models import ActivityEntry, Candidate
from hiretext.messaging import acceptance, services
from hiretext.messaging.models import Message, PhoneOptOut
from hiretext.messaging.tests.conftest import parallel_api_posts
from hiretext.numbers.allowance import used_this_month
from hiretext.numbers.models import PhoneNumber, SeatAssignment

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's"
)
SKIPPED = {"id", "idempotency_key", "created_at", "updated_at"}


def send(api, person, key):
    body = {"candidate_id": person.pk, "body": "Can you talk at 10? Reply <b>YES</b>"}
    return api.post("/messages", body, headers={"Idempotency-Key": key})


def record(monkeypatch, name, calls, label=None):
    """`acceptance.<name>` from here on, passed on; each call appended to `calls`: `label`,
    else its argument (its arguments when several)."""
    real = getattr(acceptance, name)

    def recorded(*args):
        calls.append(label or (args[0] if len(args) == 1 else args))
        return real(*args)

    monkeypatch.setattr(acceptance, name, recorded)
    return calls


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
def test_each_statement_writes_what_the_general_path_writes(
    api_as, recruiter, alex, number, monkeypatch
):
    api = api_as(recruiter)
    first = send(api, alex, "first")  # opens the conversation (general path)
    assert first.status_code == 202
    calls = []
    record(monkeypatch, "accept_with_route", calls, "with route")
    record(monkeypatch, "accept_in_one_statement", calls, "alone")
    fast = send(api, alex, "fast")
    assert fast.status_code == 202 and calls == ["with route"]
    message = Message.objects.select_related("conversation").get(pk=fast.json()["id"])
    entry = ActivityEntry.objects.get(ref_id=message.pk, kind="sms_out")
    assert entry.created_at == message.created_at == message.conversation.last_message_at
    assert entry.summary == f"SMS to {alex.mobile_display} ({recruiter.display_name})"
    monkeypatch.setattr(services, "sms_draft", lambda *args: None)  # the route read alone
    one = send(api, alex, "one")
    assert one.status_code == 202 and calls == ["with route", "alone"]
    monkeypatch.setattr(acceptance, "accept_in_one_statement", lambda r: None)
    general = send(api, alex, "general")
    assert general.status_code == 202
    assert written(fast.json()["id"]) == written(one.json()["id"]) == written(general.json()["id"])
    assert fast.json().keys() == one.json().keys() == general.json().keys()
    assert used_this_month(number) == 4
    conversation = Message.objects.get(pk=fast.json()["id"]).conversation
    assert conversation.last_message_at == Message.objects.get(pk=general.json()["id"]).created_at


@ON_POSTGRESQL
def test_a_mobile_outside_north_america_is_accepted_after_the_route_read(
    api_as, recruiter, alex, number, monkeypatch
):
    """The statement that reads the route spaces only a North American number for the
    timeline line; another is written by the next statement, formatted by the library."""
    alex.mobile = "+447700900123"
    alex.save(update_fields=["mobile"])
    api = api_as(recruiter)
    assert send(api, alex, "opens").status_code == 202
    calls = record(monkeypatch, "accept_in_one_statement", [])
    sent = send(api, alex, "abroad")
    assert sent.status_code == 202 and len(calls) == 1
    entry = ActivityEntry.objects.get(ref_id=sent.json()["id"], kind="sms_out")
    assert entry.summary == f"SMS to +44 7700 900123 ({recruiter.display_name})"
    assert used_this_month(number) == 2


def _events_of(message_id):
    from hiretext.inbox.models import Event

    return list(
        Event.objects.filter(message_id=message_id).values_list(
            "kind", "number_id", "conversation_id", "data"
        )
    )


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)  # autocommit, as a web worker runs
def test_the_text_and_its_event_are_one_round_trip(api_as, recruiter, alex, number):
    from django.test.utils import CaptureQueriesContext

    api = api_as(recruiter)
    assert send(api, alex, "opens").status_code == 202  # the general path opens the conversation
    with CaptureQueriesContext(connection) as queries:
        fast = send(api, alex, "fast")
    assert fast.status_code == 202
    written = [q["sql"] for q in queries if "pg_advisory_xact_lock" in q["sql"]]
    assert len(written) == 1 and "u AS (INSERT INTO" in written[0]
    message = Message.objects.get(pk=fast.json()["id"])
    assert _events_of(message.pk) == [
        ("message", number.pk, message.conversation_id, {"direction": "out", "status": "queued"})
    ]
    general = Message.objects.get(idempotency_key="opens")
    assert _events_of(general.pk) == [  # the listener's event, for comparison
        ("message", number.pk, general.conversation_id, {"direction": "out", "status": "queued"})
    ]
    assert send(api, alex, "fast").status_code == 202  # the same key again: no second event
    assert len(_events_of(message.pk)) == 1


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_text_refused_by_its_allowance_writes_no_event(api_as, recruiter, alex, number):
    from hiretext.inbox.models import Event

    api = api_as(recruiter)
    assert send(api, alex, "opens").status_code == 202
    # A text the statement wrote on this connection: its id stays recorded in the session,
    # and the refused text after it must not publish that message again.
    assert send(api, alex, "fast").status_code == 202
    number.monthly_allowance = 2
    number.save(update_fields=["monthly_allowance"])
    events = Event.objects.count()
    refused = send(api, alex, "refused")
    assert (refused.status_code, refused.json()["code"]) == (422, "allowance_exhausted")
    assert Event.objects.count() == events


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_an_event_that_fails_after_the_text_committed_is_written_by_the_listener(
    api_as, recruiter, alex, number, monkeypatch
):
    from hiretext.inbox import events

    real = events._event_sql

    def failing_when_in_the_pipeline(computed, source, notify):
        sql = real(computed, source, notify)
        return sql.replace("FROM e", "FROM e, no_such_table") if source else sql

    api = api_as(recruiter)
    assert send(api, alex, "opens").status_code == 202
    monkeypatch.setattr(events, "_event_sql", failing_when_in_the_pipeline)
    accepted = send(api, alex, "accepted")
    assert accepted.status_code == 202
    message = Message.objects.get(pk=accepted.json()["id"])
    assert _events_of(message.pk) == [
        ("message", number.pk, message.conversation_id, {"direction": "out", "status": "queued"})
    ]
    assert used_this_month(number) == 2


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


@ON_POSTGRESQL
def test_the_hot_lookups_read_by_primary_key_whatever_the_planner_knows(org, alex, number):
    """A new database has no statistics yet, and a prepared statement keeps the plan it
    was given. The send's candidate (alone or with its route) and the event's message are
    found by primary key alone, so no other index can be chosen (the organisation's was,
    reading all its candidates; the sender's was, reading all their messages)."""
    from hiretext.api.messaging import _candidate_statement
    from hiretext.ats.models import Candidate
    from hiretext.inbox.events import written_message_source

    Candidate.objects.bulk_create(
        Candidate(organization=org, first_name="C", last_name=str(k), mobile=f"+1212555{k:04d}")
        for k in range(300)
    )
    statements = {  # the index that must be read: the statement, its arguments
        "ats_candidate_pkey": (_candidate_statement("postgresql"), "(1)"),
        "messaging_message_pkey": (f"SELECT m.id FROM {written_message_source()}", ""),
        "ats_candidate_pkey on ats_candidate who": (
            services._candidate_route_sql(),
            "(1, 'key', 1, 1)",
        ),
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        for k, (index, (sql, arguments)) in enumerate(statements.items()):
            numbered = sql.split("%s")
            sql = "".join(f"{part}${n}" for n, part in enumerate(numbered[:-1], 1)) + numbered[-1]
            cursor.execute(f"PREPARE probe_{k} AS {sql}")
            cursor.execute(f"EXPLAIN EXECUTE probe_{k}{arguments}")
            plan = "\n".join(line for (line,) in cursor.fetchall())
            cursor.execute(f"DEALLOCATE probe_{k}")
            assert f"Index Scan using {index} " in plan, plan


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)  # autocommit, as a web worker runs
def test_a_text_to_a_candidate_is_one_round_trip(api_as, recruiter, alex, number):
    """The candidate, the route a text to them takes, the text and its event
    (`services.candidate_and_route`, `acceptance.accept_with_route`). The token's row was
    kept by the first send (`accounts.token_cache`)."""
    from django.test.utils import CaptureQueriesContext

    api = api_as(recruiter)
    assert send(api, alex, "opens").status_code == 202
    with CaptureQueriesContext(connection) as queries:
        response = send(api, alex, "fast")
    assert response.status_code == 202
    executed = [q["sql"] for q in queries]
    assert len(executed) == 1, [sql[:60] for sql in executed]
    assert "LATERAL" in executed[0] and "u AS (INSERT INTO" in executed[0]
    message = Message.objects.get(pk=response.json()["id"])
    assert message.conversation_id == Message.objects.get(idempotency_key="opens").conversation_id
    with CaptureQueriesContext(connection) as queries:
        again = send(api, alex, "fast")  # the key read with the route: the same message
    assert (again.status_code, again.json()) == (202, response.json())
    assert Message.objects.filter(idempotency_key="fast").count() == 1
    assert used_this_month(number) == 2


@ON_POSTGRESQL
def test_the_text_with_its_route_finds_the_candidate_by_primary_key_whatever_the_planner_knows(
    api_as, org, recruiter, alex, number, monkeypatch
):
    """As `test_the_hot_lookups_read_by_primary_key_whatever_the_planner_knows`, for the
    statement that reads the route and accepts the text (its generic plan, explained)."""
    from psycopg import sql as psycopg_sql

    from hiretext.ats.models import Candidate

    Candidate.objects.bulk_create(
        Candidate(organization=org, first_name="C", last_name=str(k), mobile=f"+1212555{k:04d}")
        for k in range(300)
    )
    run = []
    monkeypatch.setattr(
        acceptance, "_run", lambda sql, params: run.append((sql, params)) or (None, False)
    )
    assert send(api_as(recruiter), alex, "probe").status_code == 404  # nothing ran
    statement, params = run[0]
    with connection.cursor() as cursor:
        raw = cursor.connection
        numbered = statement.split("%s")
        statement = "".join(f"{p}${n}" for n, p in enumerate(numbered[:-1], 1)) + numbered[-1]
        arguments = ", ".join(psycopg_sql.Literal(p).as_string(raw) for p in params)
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE probe_with_route AS {statement}")
        cursor.execute(f"EXPLAIN EXECUTE probe_with_route({arguments})")
        plan = "\n".join(line for (line,) in cursor.fetchall())
        cursor.execute("DEALLOCATE probe_with_route")
    assert "Index Scan using ats_candidate_pkey on ats_candidate p" in plan, plan
    assert "Index Scan using message_idempotency_key_per_sender" in plan, plan


def _refuse_opted_out(alex, number, recruiter):
    Candidate.objects.filter(pk=alex.pk).update(sms_opted_out=True)


def _refuse_phone_opted_out(alex, number, recruiter):
    PhoneOptOut.objects.create(organization_id=alex.organization_id, phone=alex.mobile)


def _refuse_no_consent(alex, number, recruiter):
    Candidate.objects.filter(pk=alex.pk).update(sms_consent=False)


def _refuse_no_mobile(alex, number, recruiter):
    Candidate.objects.filter(pk=alex.pk).update(mobile="")


def _refuse_no_seat(alex, number, recruiter):
    SeatAssignment.objects.filter(user=recruiter).delete()


def _refuse_number_released(alex, number, recruiter):
    PhoneNumber.objects.filter(pk=number.pk).update(status=PhoneNumber.Status.RELEASED)


@ON_POSTGRESQL
@pytest.mark.parametrize(
    ("refuse", "code"),
    [
        (_refuse_opted_out, "opted_out"),
        (_refuse_phone_opted_out, "opted_out"),
        (_refuse_no_consent, "not_opted_in"),
        (_refuse_no_mobile, "no_mobile_number"),
        (_refuse_no_seat, "no_seat"),
        (_refuse_number_released, "no_seat"),
    ],
)
def test_the_statement_with_the_route_writes_nothing_that_a_refusal_stops(
    api_as, recruiter, alex, number, monkeypatch, refuse, code
):
    """Each refusal's condition is repeated in the statement that reads the route: with the
    conversation open (so only the refusal stands in its way), it writes nothing, and the
    refusal's own code answers."""
    api = api_as(recruiter)
    assert send(api, alex, "opens").status_code == 202
    refuse(alex, number, recruiter)
    calls = record(monkeypatch, "accept_with_route", [])
    refused = send(api, alex, "refused")
    assert (refused.status_code, refused.json()["code"]) == (422, code)
    assert len(calls) == 1
    assert Message.objects.count() == 1 and used_this_month(number) == 1
    assert ActivityEntry.objects.filter(kind="sms_out").count() == 1
    assert DBTaskResult.objects.count() <= 1


@ON_POSTGRESQL
def test_a_time_zone_changed_since_the_token_was_read_leaves_the_text_to_the_route_read(
    api_as, org, recruiter, alex, number, monkeypatch
):
    """The period is computed in the organisation's zone as the token's row had it; the
    statement writes only when the route still names that zone."""
    from hiretext.accounts.models import Organization
    from hiretext.numbers.allowance import period_in

    api = api_as(recruiter)
    assert send(api, alex, "opens").status_code == 202  # the token's row is kept from here
    Organization.objects.filter(pk=org.pk).update(time_zone="Pacific/Kiritimati")
    calls = record(monkeypatch, "accept_in_one_statement", [])
    sent = send(api, alex, "moved")
    assert sent.status_code == 202 and len(calls) == 1
    assert calls[0].route.time_zone == "Pacific/Kiritimati"
    message = Message.objects.get(pk=sent.json()["id"])
    assert message.allowance_period == period_in("Pacific/Kiritimati", message.created_at)
