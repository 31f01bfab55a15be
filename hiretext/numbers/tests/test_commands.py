from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hiretext.accounts.demo import seed_demo
from hiretext.accounts.models import Organization
from hiretext.numbers import queries, services
from hiretext.numbers.models import NumberCharge
from hiretext.web.admin_links import links_for

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seats_set_by_organisation_name(org):
    assert "Acme Staffing has 5 seat(s)." in run("seats", "set", "--org", "Acme Staffing", "5")
    assert queries.list_seats(org).count() == 5
    run("seats", "set", "--org-id", str(org.pk), "2")
    assert queries.list_seats(org).count() == 2


def test_seats_set_refusals(org, buy):
    with pytest.raises(CommandError, match="No organisation is named"):
        run("seats", "set", "--org", "Nope", "3")
    Organization.objects.create(name="Twin")
    Organization.objects.create(name="Twin")
    with pytest.raises(CommandError, match="Several organisations"):
        run("seats", "set", "--org", "Twin", "3")
    seats = services.ensure_seats(org, 2)
    buy(seats[1])
    with pytest.raises(CommandError, match="Seat 2 has held a number"):
        run("seats", "set", "--org", "Acme Staffing", "1")


def test_seats_list(org, seats, buy, admin):
    buy(seats[0], e164="+14155550142")
    services.assign_user(admin, seats[0], admin.pk)
    out = run("seats", "list", "--org", "Acme Staffing")
    assert "Seat 1: +14155550142; admin@acme.test; 250/250 left this month" in out
    assert "Seat 2: no number; no users" in out


def test_charge_monthly_command_is_idempotent(seats, buy):
    number = buy(seats[0], now=datetime(2020, 1, 5, 12, 0, tzinfo=UTC))
    out = run("numbers", "charge_monthly")
    assert "Recorded" in out
    first = NumberCharge.objects.filter(number=number).count()
    assert first > 12  # every month since 2020
    assert "Recorded 0 monthly charge(s)." in run("numbers", "charge_monthly")
    assert NumberCharge.objects.filter(number=number).count() == first


def test_demo_seeds_seats():
    seed_demo(log=lambda line: None)
    seed_demo(log=lambda line: None)  # idempotent
    acme = Organization.objects.get(name="Acme Staffing")
    beacon = Organization.objects.get(name="Beacon Talent")
    assert queries.list_seats(acme).count() == 5
    assert queries.list_seats(beacon).count() == 2
    assert not acme.seats.filter(numbers__isnull=False).exists()


def test_admin_links_follow_permissions(admin, recruiter):
    assert {"label": "Text Messaging Numbers", "url": "/admin/text-messaging/"} in links_for(admin)
    assert "Text Messaging Numbers" not in [link["label"] for link in links_for(recruiter)]
    assert links_for(None) == []
