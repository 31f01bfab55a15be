from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from hiretext.carriers.base import CarrierError
from hiretext.carriers.simulator import inventory
from hiretext.carriers.simulator.carrier import SimulatorCarrier
from hiretext.carriers.simulator.models import SimulatorNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def carrier():
    return SimulatorCarrier()


def test_inventory_covers_north_american_area_codes():
    codes = inventory.area_codes()
    assert {"415", "212", "646", "312", "604", "416", "787"} <= codes  # US, Canada, Puerto Rico
    assert not {"800", "888", "900", "111", "555"} & codes  # toll-free, premium, unassigned
    assert len(codes) > 400
    numbers = inventory.numbers_in("415")
    assert numbers[0] == "+14155550100" and numbers[-1] == "+14155550199"
    assert len(numbers) == 100
    assert inventory.numbers_in("800") == []


@pytest.mark.parametrize(
    ("e164", "ok"),
    [
        ("+14155550100", True),
        ("+14155550199", True),
        ("+14155550200", False),
        ("+14155550099", False),
        ("+14155551234", False),
        ("+18005550150", False),
        ("+1415555015", False),
        ("+441415555015", False),
        ("", False),
    ],
)
def test_is_inventory_number(e164, ok):
    assert inventory.is_inventory_number(e164) is ok


def test_search_returns_available_numbers_with_locality(carrier):
    found = carrier.search_numbers("415", limit=5)
    assert len(found) == 5
    assert [n.e164 for n in found] == sorted(n.e164 for n in found)
    assert all(inventory.is_inventory_number(n.e164) for n in found)
    assert {n.locality for n in found} == {"San Francisco, CA"}
    assert carrier.search_numbers("415", limit=0) == []
    assert carrier.search_numbers("800") == []
    assert carrier.search_numbers("'; DROP TABLE x; --") == []


def test_buy_then_no_one_else_can_until_quarantine_ends(carrier):
    bought = carrier.buy_number("+14155550142")
    assert bought.e164 == "+14155550142" and bought.carrier_id.startswith("SIMPN")
    assert "+14155550142" not in {n.e164 for n in carrier.search_numbers("415", limit=100)}
    with pytest.raises(CarrierError) as exc:
        carrier.buy_number("+14155550142")
    assert exc.value.code == "number_unavailable"

    carrier.release_number("+14155550142", "SIMPN-not-the-owner")
    assert SimulatorNumber.objects.get().held  # only the holder's id releases it
    carrier.release_number("+14155550142", bought.carrier_id)
    with pytest.raises(CarrierError):
        carrier.buy_number("+14155550142")  # quarantined
    assert "+14155550142" not in {n.e164 for n in carrier.search_numbers("415", limit=100)}

    SimulatorNumber.objects.update(released_at=timezone.now() - timedelta(days=30, seconds=1))
    assert "+14155550142" in {n.e164 for n in carrier.search_numbers("415", limit=100)}
    again = carrier.buy_number("+14155550142")
    assert again.carrier_id != bought.carrier_id
    row = SimulatorNumber.objects.get()
    assert row.held and row.released_at is None and row.carrier_id == again.carrier_id


@override_settings(HIRETEXT_SIMULATOR_QUARANTINE_DAYS=2)
def test_quarantine_days_setting(carrier):
    bought = carrier.buy_number("+14155550142")
    carrier.release_number(bought.e164, bought.carrier_id)
    SimulatorNumber.objects.update(released_at=datetime.now(UTC) - timedelta(days=2, minutes=1))
    assert carrier.buy_number("+14155550142").e164 == "+14155550142"


def test_numbers_outside_the_inventory_are_never_sold(carrier):
    for e164 in ["+14155551234", "+18005550150", "not a number"]:
        with pytest.raises(CarrierError) as exc:
            carrier.buy_number(e164)
        assert exc.value.code == "number_unavailable"
    assert not SimulatorNumber.objects.exists()


def test_sold_out_area_code_offers_nothing(carrier):
    for e164 in inventory.numbers_in("212"):
        carrier.buy_number(e164)
    assert carrier.search_numbers("212") == []
