"""A carrier's status report that arrives before the send's receipt is applied, not lost.

The worker calls the carrier outside any transaction and records its answer afterwards, so
a report (the simulator's delivery task on another worker loop, Twilio's callback) can come
first. Carriers echo our message id (`StatusUpdate.reference`): it finds the message whose
carrier id is not recorded yet, and nothing else.
"""

import json
import logging
import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from hiretext.carriers.base import CarrierError, SendReceipt, StatusUpdate
from hiretext.carriers.simulator import phones
from hiretext.carriers.simulator.phone_models import SimulatorPhoneMessage
from hiretext.carriers.simulator.tasks import post_delivery_status
from hiretext.messaging import services, signals
from hiretext.messaging.models import Message, PhoneOptOut
from hiretext.messaging.tests.conftest import make_candidate, make_number, signed_post
from hiretext.numbers.allowance import used_this_month
from tests.mocks.twilio_api import ACCOUNT_SID, configure_twilio

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def announced():
    """The statuses announced to listeners (the inbox's events), in order."""
    seen: list[str] = []

    def listener(sender, message, **kwargs):
        seen.append(message.status)

    signals.message_status_changed.connect(listener, dispatch_uid="test.announced")
    yield seen
    signals.message_status_changed.disconnect(dispatch_uid="test.announced")


def report(message_id, external_id, status="delivered", **extra):
    return StatusUpdate(
        external_id=external_id,
        status=status,
        occurred_at=timezone.now(),
        reference=str(message_id),
        **extra,
    )


def claimed(recruiter, person):
    """A message the worker has claimed (`sending`): its carrier call is under way."""
    accepted = services.send_message(recruiter, person, "Hello")
    assert services._claim(accepted.message.pk) is not None
    return Message.objects.get(pk=accepted.message.pk)


def state(message):
    message.refresh_from_db()
    return message.status, message.external_id


# --- the report lands during the carrier call ------------------------------------------------


def test_the_simulators_report_that_outruns_the_receipt_is_applied(
    recruiter, alex, number, immediate, announced, monkeypatch
):
    """The immediate task backend runs the phone's delivery report inside the carrier call."""
    seen_by_report = []
    real = phones.deliver_status

    def spying(external_id, reference=""):
        seen_by_report.append(
            Message.objects.values_list("status", "external_id").get(pk=int(reference))
        )
        return real(external_id, reference)

    monkeypatch.setattr(phones, "deliver_status", spying)
    accepted = services.send_message(recruiter, alex, "Hello")
    assert seen_by_report == [("sending", "")]  # the receipt had not been recorded
    message = Message.objects.get(pk=accepted.message.pk)
    texted = SimulatorPhoneMessage.objects.get(direction="to_phone")
    assert (message.status, message.external_id) == ("delivered", texted.external_id)
    assert message.sent_at is not None and message.delivered_at is not None
    assert announced == ["sent", "delivered"]  # each step once, in order
    assert used_this_month(number) == 1  # sent: nothing refunded


def test_a_stub_carriers_report_during_the_call_survives_the_receipt(
    recruiter, alex, number, announced, monkeypatch
):
    message = claimed(recruiter, alex)
    Message.objects.filter(pk=message.pk).update(status="queued")  # deliver claims it again
    applied = []

    def carrier(sms):
        applied.append(services.record_status("simulator", report(sms.message_id, "SIMearly")))
        return SendReceipt(external_id="SIMearly", status="sent")

    monkeypatch.setattr(phones, "send", carrier)
    assert services.deliver(message.pk) == services.Outcome.DONE
    assert applied[0] is not None and applied[0].pk == message.pk
    assert state(message) == ("delivered", "SIMearly")
    assert message.attempts == 2
    assert announced == ["sent", "delivered"]  # the receipt moves nothing back


@pytest.mark.parametrize(
    ("status", "code", "opted_out"),
    [("undelivered", "30006", False), ("failed", "21610", True)],
)
def test_a_failure_reported_before_the_receipt_keeps_its_reason(
    recruiter, alex, number, monkeypatch, status, code, opted_out
):
    message = claimed(recruiter, alex)
    Message.objects.filter(pk=message.pk).update(status="queued")

    def carrier(sms):
        update = report(sms.message_id, "SIMlost", status, error_code=code)
        services.record_status("simulator", update)
        return SendReceipt(external_id="SIMlost", status="sent")

    monkeypatch.setattr(phones, "send", carrier)
    services.deliver(message.pk)
    assert state(message) == (status, "SIMlost")
    assert message.error_code == code
    alex.refresh_from_db()
    assert alex.sms_opted_out is opted_out
    assert PhoneOptOut.objects.filter(phone=alex.mobile).exists() is opted_out


def wait_until_blocked():
    """Until another connection waits for a lock this one holds (PostgreSQL); SQLite's
    writers queue at the start of their transaction, out of sight: give it time to."""
    if connection.vendor != "postgresql":
        time.sleep(0.5)
        return
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    pytest.fail("The report never waited for the receipt's row lock.")


def test_a_report_waiting_for_the_receipts_row_lock_is_applied(
    recruiter, alex, number, monkeypatch
):
    """The report comes from another connection while the receipt's transaction holds the
    row: once it commits, the report finds the carrier id it was waiting for."""
    message = claimed(recruiter, alex)
    Message.objects.filter(pk=message.pk).update(status="queued")
    answers = []

    def post_report():
        try:
            payload = {"message_id": "SIMrace", "status": "delivered", "reference": str(message.pk)}
            answers.append(phones.post_webhook("status", payload))
        finally:
            connections.close_all()

    reporter = threading.Thread(target=post_report)
    real = services._record_receipt

    def receipt_while_reported(locked, status, external_id):
        reporter.start()
        wait_until_blocked()  # the report queues behind this transaction
        assert state(Message(pk=locked.pk)) == ("sending", "")
        real(locked, status, external_id)

    monkeypatch.setattr(services, "_record_receipt", receipt_while_reported)
    monkeypatch.setattr(phones, "send", lambda sms: SendReceipt("SIMrace", "sent"))
    services.deliver(message.pk)
    reporter.join(timeout=30)
    assert [(a.status_code, json.loads(a.content)) for a in answers] == [
        (200, {"received": 1, "matched": 1})
    ]
    assert state(message) == ("delivered", "SIMrace")


def test_a_report_of_a_lost_answer_stops_a_second_send(recruiter, alex, number, monkeypatch):
    """The carrier took the text but its answer was lost (a transient error): its report
    said so, so the retry does not text the person again."""
    message = claimed(recruiter, alex)
    Message.objects.filter(pk=message.pk).update(status="queued")
    calls = []

    def carrier(sms):
        calls.append(sms.message_id)
        services.record_status("simulator", report(sms.message_id, "SIMtaken", "sending"))
        raise CarrierError("The connection was reset.", transient=True)

    monkeypatch.setattr(phones, "send", carrier)
    assert services.deliver(message.pk) == services.Outcome.RETRY
    assert services.deliver(message.pk) == services.Outcome.DONE
    assert calls == [message.pk]
    assert state(message) == ("sending", "SIMtaken")
    later = StatusUpdate(external_id="SIMtaken", status="delivered", occurred_at=timezone.now())
    assert services.record_status("simulator", later) is not None
    assert state(message) == ("delivered", "SIMtaken")


def test_a_receipt_naming_another_id_keeps_the_reported_one(
    recruiter, alex, number, monkeypatch, caplog
):
    message = claimed(recruiter, alex)
    Message.objects.filter(pk=message.pk).update(status="queued")

    def carrier(sms):
        services.record_status("simulator", report(sms.message_id, "SIMfirst", "sent"))
        return SendReceipt(external_id="SIMsecond", status="sent")

    monkeypatch.setattr(phones, "send", carrier)
    with caplog.at_level(logging.WARNING, logger="hiretext.messaging.services"):
        assert services.deliver(message.pk) == services.Outcome.DONE
    assert state(message) == ("sent", "SIMfirst")
    assert "SIMsecond" in caplog.text


# --- references that must change nothing ------------------------------------------------------


def test_a_reference_to_a_message_the_carrier_named_otherwise_changes_nothing(
    recruiter, alex, number
):
    message = claimed(recruiter, alex)
    Message.objects.filter(pk=message.pk).update(external_id="SIMreal")
    assert services.record_status("simulator", report(message.pk, "SIMforged")) is None
    assert state(message) == ("sending", "SIMreal")


def test_a_reference_to_another_carriers_message_changes_nothing(recruiter, alex, number):
    message = claimed(recruiter, alex)
    Message.objects.filter(pk=message.pk).update(carrier="twilio")
    assert services.record_status("simulator", report(message.pk, "SIMx")) is None
    assert state(message) == ("sending", "")


@pytest.mark.parametrize("status", ["queued", "failed", "sent"])
def test_a_reference_to_a_message_not_being_sent_changes_nothing(recruiter, alex, number, status):
    message = claimed(recruiter, alex)
    Message.objects.filter(pk=message.pk).update(status=status)
    assert services.record_status("simulator", report(message.pk, "SIMx")) is None
    assert state(message) == (status, "")


def test_a_reference_to_an_inbound_message_changes_nothing(client, alex, number):
    from hiretext.messaging.tests.conftest import inbound

    inbound(client, "Hi")
    received = Message.objects.get(direction="in")
    assert services.record_status("simulator", report(received.pk, "SIMx")) is None
    assert state(received) == ("received", "SIMin1")


def test_a_carrier_account_cannot_name_another_organisations_message(
    org, other_org, recruiter, alex, number, make_user
):
    from hiretext.accounts.models import Role

    theirs_sender = make_user("them@beacon.test", Role.RECRUITER, organization=other_org)
    make_number(other_org, [theirs_sender], e164="+14155550177")
    theirs = claimed(theirs_sender, make_candidate(other_org, theirs_sender))
    ours = claimed(recruiter, alex)
    configure_twilio(org)  # our organisation's account signed the report
    signed = {"account_ref": ACCOUNT_SID}
    assert services.record_status("simulator", report(theirs.pk, "SIMx", **signed)) is None
    assert state(theirs) == ("sending", "")
    assert services.record_status("simulator", report(ours.pk, "SIMy", **signed)) is not None
    assert state(ours) == ("delivered", "SIMy")


@pytest.mark.parametrize("reference", ["", "12a", "-1", "1" * 20, "１２", "999999"])
def test_a_reference_that_names_no_message_changes_nothing(recruiter, alex, number, reference):
    message = claimed(recruiter, alex)
    update = StatusUpdate(
        external_id="SIMx", status="delivered", occurred_at=timezone.now(), reference=reference
    )
    assert services.record_status("simulator", update) is None
    assert state(message) == ("sending", "")


def test_a_report_without_a_carrier_id_changes_nothing(recruiter, alex, number):
    message = claimed(recruiter, alex)
    assert services.record_status("simulator", report(message.pk, "")) is None
    assert state(message) == ("sending", "")


# --- the simulator's webhook ------------------------------------------------------------------


def test_the_simulators_webhook_applies_a_reported_reference(client, recruiter, alex, number):
    message = claimed(recruiter, alex)
    payload = {"message_id": "SIMhook", "status": "sent", "reference": str(message.pk)}
    response = signed_post(client, "status", payload)
    assert (response.status_code, response.json()["matched"]) == (200, 1)
    assert state(message) == ("sent", "SIMhook")


@pytest.mark.parametrize("reference", ["abc", "12a", "-1", "1" * 20, "１２", 12, None, ["1"]])
def test_a_malformed_reference_is_400(client, recruiter, alex, number, reference):
    message = claimed(recruiter, alex)
    payload = {"message_id": "SIMhook", "status": "delivered", "reference": reference}
    response = signed_post(client, "status", payload)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"
    assert state(message) == ("sending", "")


def test_a_delivery_report_queued_without_a_reference_still_runs(recruiter, alex, number):
    """Tasks queued before reports carried our id run as they did: found by carrier id."""
    accepted = services.send_message(recruiter, alex, "Hello")
    services.deliver(accepted.message.pk)
    message = Message.objects.get(pk=accepted.message.pk)
    assert post_delivery_status.call(message.external_id) == 200
    assert state(message) == ("delivered", message.external_id)


def sent(recruiter, person, external_id):
    """A message the carrier took: `sent`, with its carrier id."""
    message = claimed(recruiter, person)
    Message.objects.filter(pk=message.pk).update(status="sent", external_id=external_id)
    return message


def test_a_report_reads_its_message_with_the_conversation_number_and_organisation(
    recruiter, alex, number, announced
):
    from django.test.utils import CaptureQueriesContext

    message = sent(recruiter, alex, "SIMdone")
    update = StatusUpdate(external_id="SIMdone", status="delivered", occurred_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        found = services.record_status("simulator", update)
        assert found is not None and found.pk == message.pk
        assert found.conversation.number.organization.name == number.organization.name
        assert found.conversation.phone == alex.mobile and found.conversation.number == number
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith("SELECT")]
    assert len(reads) == 1, reads  # the message, its conversation, number and organisation
    assert state(message) == ("delivered", "SIMdone") and announced == ["delivered"]
    # Ids that are nobody's, or another carrier's, find nothing and change nothing.
    for carrier, external_id in (("simulator", "SIMother"), ("twilio", "SIMdone")):
        update = StatusUpdate(external_id=external_id, status="failed", occurred_at=None)
        assert services.record_status(carrier, update) is None
    assert state(message) == ("delivered", "SIMdone") and announced == ["delivered"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_a_report_locks_its_message_only(recruiter, alex, number):
    """Another transaction holds the organisation's and the number's rows: the report is
    applied at once (only the message's row is locked while it is)."""
    from hiretext.accounts.models import Organization
    from hiretext.numbers.models import PhoneNumber
    from tests.threads import held_in_another_transaction

    message = sent(recruiter, alex, "SIMheld")
    held = [
        (f'SELECT 1 FROM "{model._meta.db_table}" WHERE id = %s FOR UPDATE', [pk])
        for model, pk in ((Organization, number.organization_id), (PhoneNumber, number.pk))
    ]
    update = StatusUpdate(external_id="SIMheld", status="delivered", occurred_at=None)
    try:
        with held_in_another_transaction(*held):
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")  # a wait fails the call instead
            assert services.record_status("simulator", update) is not None
    finally:
        connection.close()
    assert state(message) == ("delivered", "SIMheld")
