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
    """One locked read brings message, conversation, number, organisation and person; then
    the org-wide opt-out check and the claim's update (no lazy read of the person)."""
    from django.test.utils import CaptureQueriesContext

    accepted = services.send_message(recruiter, alex, "Hello")
    with CaptureQueriesContext(connection) as queries:
        attempts, carrier, sms = services._claim(accepted.message.pk)
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("BEGIN", "COMMIT"))]
    assert len(statements) == 3, statements
    assert "ats_candidate" in statements[0]  # the person, joined to the locked read
    assert (attempts, sms.to_e164, sms.body) == (1, alex.mobile, "Hello")
