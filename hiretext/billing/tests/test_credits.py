"""The credit ledger: balance is the sum; staff top up with a command; refunds once."""

import pytest
from django.core.management import CommandError, call_command

from hiretext.billing import services
from hiretext.billing.models import CreditEntry
from hiretext.lib.errors import DomainError

pytestmark = pytest.mark.django_db


def test_topup_command_by_name_and_id(org, other_org, capsys):
    call_command("credits", "topup", "--org", "Acme Staffing", "50")
    call_command("credits", "topup", "--org", str(org.pk), "25", "--note", "March")
    assert services.balance(org) == 75
    assert services.balance(other_org) == 0
    assert "75 credits" in capsys.readouterr().out
    assert CreditEntry.objects.filter(organization=org, kind="topup").count() == 2


@pytest.mark.parametrize("amount", ["0", "-5", "99999999"])
def test_topup_command_refuses_bad_amounts(org, amount):
    with pytest.raises(CommandError):
        call_command("credits", "topup", "--org", "Acme Staffing", amount)
    assert services.balance(org) == 0


def test_topup_command_unknown_org(org):
    with pytest.raises(CommandError):
        call_command("credits", "topup", "--org", "Nobody Inc", "5")


def test_debit_needs_a_transaction_and_enough_credits(org):
    from django.db import transaction

    services.top_up(org, 2)
    with pytest.raises(DomainError) as refused, transaction.atomic():
        services.debit(org, 3, message_id=None)
    assert refused.value.code == "insufficient_credits"
    assert services.balance(org) == 2
