"""The worker's step: no transaction (and on SQLite no write lock) during the carrier call."""

import pytest
from django.db import connection

from hiretext.carriers.base import SendReceipt
from hiretext.carriers.simulator import phones
from hiretext.messaging import services
from hiretext.messaging.models import Message
from hiretext.numbers.allowance import used_this_month


@pytest.mark.django_db(transaction=True)
def test_carrier_is_called_outside_any_transaction_after_the_claim_commits(
    recruiter, alex, number, monkeypatch
):
    accepted = services.send_message(recruiter, alex, "Hello")
    seen = {}

    def carrier(sms):
        seen["in_transaction"] = connection.in_atomic_block or not connection.get_autocommit()
        # What another connection (a status callback, a webhook) sees meanwhile.
        seen["row"] = Message.objects.values_list("status", "attempts").get(pk=sms.message_id)
        return SendReceipt(external_id="SIMabc", status="sent")

    monkeypatch.setattr(phones, "send", carrier)
    assert services.deliver(accepted.message.pk) == services.Outcome.DONE
    assert seen == {"in_transaction": False, "row": ("sending", 1)}
    message = Message.objects.get(pk=accepted.message.pk)
    assert (message.status, message.external_id, message.attempts) == ("sent", "SIMabc", 1)
    assert message.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_status_that_landed_before_the_receipt_is_not_moved_back(
    recruiter, alex, number, monkeypatch
):
    accepted = services.send_message(recruiter, alex, "Hello")

    def carrier(sms):
        # The carrier's delivery report is applied while its answer is still on the way.
        Message.objects.filter(pk=sms.message_id).update(status="delivered")
        return SendReceipt(external_id="SIMfast", status="sent")

    monkeypatch.setattr(phones, "send", carrier)
    services.deliver(accepted.message.pk)
    message = Message.objects.get(pk=accepted.message.pk)
    assert (message.status, message.external_id) == ("delivered", "SIMfast")
    assert used_this_month(number) == 1  # sent: nothing refunded


@pytest.mark.django_db(transaction=True)
def test_the_claim_reads_the_person_with_the_message(recruiter, alex, number):
    """One locked read brings message, conversation, number, organisation, person and the
    org-wide opt-out check; then the claim's update (no lazy read of the person)."""
    from django.test.utils import CaptureQueriesContext

    accepted = services.send_message(recruiter, alex, "Hello")
    with CaptureQueriesContext(connection) as queries:
        attempts, carrier, sms = services._claim(accepted.message.pk)
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("BEGIN", "COMMIT"))]
    assert len(statements) == 2, statements
    assert "ats_candidate" in statements[0]  # the person, joined to the locked read
    assert "messaging_phoneoptout" in statements[0]
    assert statements[1].startswith('UPDATE "messaging_message"')
    assert (attempts, sms.to_e164, sms.body) == (1, alex.mobile, "Hello")


def test_update_writes_only_the_named_columns_and_stamps_auto_now(recruiter, alex, number):
    from django.test.utils import CaptureQueriesContext

    from hiretext.lib import rows

    message = services.send_message(recruiter, alex, "Hello").message
    before = Message.objects.get(pk=message.pk)
    message.status, message.attempts = "sending", 3
    message.body = "not written: not named"
    with CaptureQueriesContext(connection) as queries:  # also through Django's cursor
        rows.update(message, ["status", "attempts", "updated_at"])
    assert len(queries) == 1 and queries[0]["sql"].startswith('UPDATE "messaging_message"')
    after = Message.objects.get(pk=message.pk)
    assert (after.status, after.attempts, after.body) == ("sending", 3, "Hello")
    assert after.updated_at == message.updated_at > before.updated_at
    rows.update(message, ["status"])  # outside a test's query capture: the prepared path
    assert Message.objects.get(pk=message.pk).updated_at == after.updated_at
