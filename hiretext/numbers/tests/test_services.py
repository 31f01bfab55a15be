from datetime import UTC, date, datetime

import pytest
from django.test import override_settings

from hiretext.carriers.simulator.models import SimulatorNumber
from hiretext.lib.errors import DomainError
from hiretext.numbers import queries, services
from hiretext.numbers.models import NumberCharge, PhoneNumber, SeatAssignment, TermsAcceptance

pytestmark = pytest.mark.django_db


def code_of(excinfo):
    return excinfo.value.code


# --- seats -------------------------------------------------------------------------------


def test_ensure_seats_is_idempotent_and_numbers_positions(org):
    services.ensure_seats(org, 3)
    seats = services.ensure_seats(org, 3)
    assert [s.position for s in seats] == [1, 2, 3]
    assert [str(s) for s in seats] == ["Seat 1", "Seat 2", "Seat 3"]


def test_set_seat_count_grows_and_shrinks_unused_seats(org):
    assert len(services.set_seat_count(org, 5)) == 5
    assert len(services.set_seat_count(org, 2)) == 2
    assert list(queries.list_seats(org).values_list("position", flat=True)) == [1, 2]


def test_set_seat_count_keeps_seats_in_use(org, seats, buy, recruiter, admin):
    buy(seats[2])
    with pytest.raises(DomainError) as exc:
        services.set_seat_count(org, 2)
    assert code_of(exc) == "seat_in_use"
    assert queries.list_seats(org).count() == 3
    services.assign_user(admin, seats[1], recruiter.pk)
    with pytest.raises(DomainError, match="has users"):
        services.set_seat_count(org, 1)


@pytest.mark.parametrize("count", [-1, 501])
def test_seat_count_bounds(org, count):
    with pytest.raises(DomainError) as exc:
        services.set_seat_count(org, count)
    assert code_of(exc) == "validation_error"


# --- buying -------------------------------------------------------------------------------


def test_buy_chosen_number_records_terms_and_first_charge(seats, admin):
    now = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
    number = services.buy_number(
        admin, seats[0], area_code="415", e164="+14155550142", terms_accepted=True, now=now
    )
    assert number.e164 == "+14155550142"
    assert number.status == PhoneNumber.Status.ACTIVE
    assert number.carrier == "simulator"
    assert number.carrier_id.startswith("SIMPN")
    assert number.monthly_allowance == 250
    assert number.monthly_price_cents == 500
    assert number.purchased_at == now
    terms = TermsAcceptance.objects.get(number=number)
    assert terms.accepted_by == admin
    assert terms.accepted_by_email == "admin@acme.test"
    assert terms.accepted_at == now
    assert terms.monthly_price_cents == 500
    assert "$5.00 / month" in terms.terms and "+1 415 555 0142" in terms.terms
    charge = NumberCharge.objects.get(number=number)
    assert (charge.period, charge.amount_cents) == (date(2026, 3, 1), 500)
    assert SimulatorNumber.objects.get(e164="+14155550142").held


@override_settings(HIRETEXT_NUMBER_MONTHLY_PRICE_CENTS=1250)
def test_price_comes_from_settings(seats, buy):
    number = buy(seats[0])
    assert number.monthly_price_cents == 1250
    assert number.terms_acceptance.monthly_price_cents == 1250
    assert "$12.50 / month" in number.terms_acceptance.terms
    assert NumberCharge.objects.get(number=number).amount_cents == 1250


def test_price_label():
    assert services.price_label(500) == "$5.00 / month"
    assert services.price_label(123456) == "$1,234.56 / month"
    assert services.price_label(5) == "$0.05 / month"


def test_auto_buys_a_random_number_of_the_area_code(seats, buy):
    number = buy(seats[0], area_code="212")
    assert number.e164.startswith("+12125550")
    assert 100 <= int(number.e164[-3:]) <= 199


def test_terms_must_be_accepted(seats, admin):
    for accepted in (False, None, "yes"):
        with pytest.raises(DomainError) as exc:
            services.buy_number(admin, seats[0], area_code="415", terms_accepted=accepted)
        assert code_of(exc) == "terms_not_accepted"
        assert "$5.00 / month" in exc.value.message
    assert not PhoneNumber.objects.exists()
    assert not SimulatorNumber.objects.exists()


def test_seat_with_a_number_cannot_buy_another(seats, buy):
    first = buy(seats[0])
    with pytest.raises(DomainError) as exc:
        buy(seats[0])
    assert code_of(exc) == "seat_has_number"
    assert exc.value.status == 409
    assert first.e164.replace("+1", "") in exc.value.message.replace(" ", "")
    assert PhoneNumber.objects.count() == 1
    assert SimulatorNumber.objects.count() == 1  # the carrier sold nothing more


def test_a_bought_number_is_not_offered_or_sold_to_anyone_else(
    seats, other_seats, buy, other_admin
):
    buy(seats[0], e164="+14155550142")
    offered = {n.e164 for n in queries.available_numbers(other_admin.organization, "415", 100)}
    assert "+14155550142" not in offered
    assert len(offered) == 99
    with pytest.raises(DomainError) as exc:
        buy(other_seats[0], e164="+14155550142", actor=other_admin)
    assert code_of(exc) == "number_unavailable"
    assert "+1 415 555 0142 is no longer available" in exc.value.message
    assert not PhoneNumber.objects.filter(organization=other_admin.organization).exists()


def test_auto_refuses_when_the_area_code_is_sold_out(seats, other_seats, buy, other_admin):
    for line in range(100, 200):
        SimulatorNumber.objects.create(
            e164=f"+1415555{line:04d}",
            area_code="415",
            carrier_id=f"x{line}",
            bought_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    with pytest.raises(DomainError) as exc:
        buy(seats[0])
    assert code_of(exc) == "number_unavailable"
    assert "No numbers are available in area code 415" in exc.value.message


@pytest.mark.parametrize("area_code", ["", "41", "4155", "abc", "41a", "٤١٥", None, 415, " 415"])
def test_area_code_must_be_three_digits(seats, admin, area_code):
    with pytest.raises(DomainError) as exc:
        services.buy_number(admin, seats[0], area_code=area_code, terms_accepted=True)
    assert code_of(exc) == "validation_error"
    assert "3-digit area code" in exc.value.message


def test_unknown_area_code_has_no_numbers(seats, buy):
    with pytest.raises(DomainError) as exc:
        buy(seats[0], area_code="111")
    assert code_of(exc) == "number_unavailable"


@pytest.mark.parametrize(
    ("e164", "message"),
    [
        ("+12125550142", "is not in area code 415"),
        ("4155550142", "Pick a number"),
        ("+1415555014", "Pick a number"),
        ("+1415555014x", "Pick a number"),
        ("+44415555014", "Pick a number"),
    ],
)
def test_chosen_number_is_checked(seats, buy, e164, message):
    with pytest.raises(DomainError, match=message) as exc:
        buy(seats[0], e164=e164)
    assert code_of(exc) == "validation_error"


def test_number_outside_the_fictional_range_is_unavailable(seats, buy):
    with pytest.raises(DomainError) as exc:
        buy(seats[0], e164="+14155551234")
    assert code_of(exc) == "number_unavailable"


def test_new_number_takes_the_seats_allowance(seats, buy, admin):
    services.set_monthly_allowance(admin, seats[0], 400)
    seats[0].refresh_from_db()
    assert buy(seats[0]).monthly_allowance == 400


def test_buying_needs_manage_text_messaging(seats, recruiter):
    with pytest.raises(DomainError) as exc:
        services.buy_number(recruiter, seats[0], area_code="415", terms_accepted=True)
    assert code_of(exc) == "permission_denied"
    assert not PhoneNumber.objects.exists()


# --- releasing ----------------------------------------------------------------------------


def test_release_stops_charges_keeps_users_and_quarantines(seats, buy, admin, recruiter):
    number = buy(seats[0], e164="+14155550142")
    services.assign_user(admin, seats[0], recruiter.pk)
    released = services.release_number(admin, seats[0])
    assert released.status == PhoneNumber.Status.RELEASED
    assert released.released_at is not None
    assert SeatAssignment.objects.filter(seat=seats[0], user=recruiter).exists()
    assert queries.number_for_user(recruiter) is None
    held = SimulatorNumber.objects.get(e164="+14155550142")
    assert not held.held and held.released_at is not None
    # Quarantined: neither offered nor sold, to anyone, for now.
    assert "+14155550142" not in {
        n.e164 for n in queries.available_numbers(seats[0].organization, "415", 100)
    }
    with pytest.raises(DomainError) as exc:
        buy(seats[1], e164="+14155550142")
    assert code_of(exc) == "number_unavailable"
    # Later months bring no charge for it.
    assert services.charge_monthly(now=datetime(2026, 12, 15, tzinfo=UTC)) == 0
    assert NumberCharge.objects.filter(number=number).count() == 1
    # The seat can buy again.
    assert buy(seats[0]).status == PhoneNumber.Status.ACTIVE


def test_released_number_returns_to_the_pool_after_quarantine(seats, buy, admin):
    buy(seats[0], e164="+14155550142")
    services.release_number(admin, seats[0])
    SimulatorNumber.objects.filter(e164="+14155550142").update(
        released_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    again = buy(seats[1], e164="+14155550142")
    assert again.status == PhoneNumber.Status.ACTIVE
    assert PhoneNumber.objects.filter(e164="+14155550142").count() == 2


@override_settings(HIRETEXT_SIMULATOR_QUARANTINE_DAYS=0)
def test_quarantine_length_is_a_setting(seats, buy, admin):
    buy(seats[0], e164="+14155550142")
    services.release_number(admin, seats[0])
    assert buy(seats[1], e164="+14155550142").e164 == "+14155550142"


def test_release_without_a_number_is_not_found(seats, admin):
    with pytest.raises(DomainError) as exc:
        services.release_number(admin, seats[0])
    assert code_of(exc) == "not_found"


def test_release_needs_manage_text_messaging(seats, buy, recruiter):
    buy(seats[0])
    with pytest.raises(DomainError) as exc:
        services.release_number(recruiter, seats[0])
    assert code_of(exc) == "permission_denied"
    assert PhoneNumber.objects.get().status == PhoneNumber.Status.ACTIVE


# --- users on seats -----------------------------------------------------------------------


def test_assign_users_fills_slots_and_users_read_the_number_live(seats, buy, admin, make_user):
    number = buy(seats[0], e164="+14155550142")
    a, b = make_user("a@acme.test", first="Ann"), make_user("b@acme.test", first="Bob")
    services.assign_users(admin, seats[0], [a.pk, b.pk])
    assert list(SeatAssignment.objects.order_by("slot").values_list("user_id", "slot")) == [
        (a.pk, 1),
        (b.pk, 2),
    ]
    assert queries.number_for_user(a) == number
    assert queries.number_for_user(a).organization.name == "Acme Staffing"
    assert queries.users_on_number(number) == [a, b]
    services.remove_user(admin, seats[0], a.pk)
    assert queries.number_for_user(a) is None
    assert queries.users_on_number(number) == [b]
    c = make_user("c@acme.test", first="Cy")
    services.assign_user(admin, seats[0], c.pk)
    assert SeatAssignment.objects.get(user=c).slot == 1  # the freed slot is reused


def test_fourth_user_is_refused_with_a_clear_message(seats, buy, admin, make_user):
    buy(seats[0])
    users = [make_user(f"u{i}@acme.test") for i in range(4)]
    services.assign_users(admin, seats[0], [u.pk for u in users[:3]])
    with pytest.raises(DomainError) as exc:
        services.assign_user(admin, seats[0], users[3].pk)
    assert code_of(exc) == "seat_full"
    assert exc.value.status == 409
    assert exc.value.message == "This number already has 3 users."


def test_picking_more_users_than_places_assigns_none(seats, admin, make_user):
    users = [make_user(f"u{i}@acme.test") for i in range(4)]
    services.assign_user(admin, seats[0], users[0].pk)
    with pytest.raises(DomainError, match="room for 2 more users") as exc:
        services.assign_users(admin, seats[0], [u.pk for u in users[1:]])
    assert code_of(exc) == "seat_full"
    assert SeatAssignment.objects.count() == 1


def test_user_on_one_number_at_a_time(seats, buy, admin, recruiter):
    buy(seats[0], e164="+14155550142")
    services.assign_user(admin, seats[0], recruiter.pk)
    with pytest.raises(DomainError) as exc:
        services.assign_user(admin, seats[1], recruiter.pk)
    assert code_of(exc) == "user_already_assigned"
    assert exc.value.message == "Dana Li is already assigned to +1 415 555 0142."
    with pytest.raises(DomainError, match="already assigned to \\+1 415 555 0142"):
        services.assign_user(admin, seats[0], recruiter.pk)


def test_already_assigned_to_a_seat_without_number(seats, admin, recruiter):
    services.assign_user(admin, seats[1], recruiter.pk)
    with pytest.raises(DomainError) as exc:
        services.assign_user(admin, seats[0], recruiter.pk)
    assert exc.value.message == "Dana Li is already assigned to Seat 2."


def test_users_of_another_org_or_inactive_cannot_be_assigned(seats, admin, other_admin, recruiter):
    for user_id in (other_admin.pk, 10**12, 2**70):
        with pytest.raises(DomainError) as exc:
            services.assign_user(admin, seats[0], user_id)
        assert code_of(exc) == "not_found"
    recruiter.is_active = False
    recruiter.save()
    with pytest.raises(DomainError):
        services.assign_user(admin, seats[0], recruiter.pk)
    assert not SeatAssignment.objects.exists()


def test_assign_needs_at_least_one_user(seats, admin):
    with pytest.raises(DomainError) as exc:
        services.assign_users(admin, seats[0], [])
    assert code_of(exc) == "validation_error"


def test_assign_and_remove_need_manage_text_messaging(seats, admin, recruiter, manager):
    with pytest.raises(DomainError) as exc:
        services.assign_user(recruiter, seats[0], manager.pk)
    assert code_of(exc) == "permission_denied"
    services.assign_user(admin, seats[0], manager.pk)
    with pytest.raises(DomainError) as exc:
        services.remove_user(recruiter, seats[0], manager.pk)
    assert code_of(exc) == "permission_denied"
    assert SeatAssignment.objects.filter(user=manager).exists()


def test_remove_user_not_on_the_seat(seats, admin, recruiter):
    services.assign_user(admin, seats[1], recruiter.pk)
    with pytest.raises(DomainError) as exc:
        services.remove_user(admin, seats[0], recruiter.pk)
    assert code_of(exc) == "not_found"
    assert SeatAssignment.objects.filter(user=recruiter, seat=seats[1]).exists()


def test_available_users_search_by_partial_or_full_name(org, seats, admin, make_user):
    dana = make_user("dana@acme.test", first="Dana", last="Li")
    make_user("danny@acme.test", first="Danny", last="Ocean")
    sam = make_user("sam@acme.test", first="Sam", last="Ortiz")
    services.assign_user(admin, seats[0], sam.pk)
    assert {u.email for u in queries.available_users(org, "dan")} == {
        "dana@acme.test",
        "danny@acme.test",
    }
    assert queries.available_users(org, "  Dana   Li ") == [dana]
    assert queries.available_users(org, "sam") == []  # already on a seat
    assert queries.available_users(org, "x" * 10_000) == []


# --- allowance ----------------------------------------------------------------------------


def test_set_monthly_allowance_updates_seat_and_number(seats, buy, admin):
    number = buy(seats[0])
    services.set_monthly_allowance(admin, seats[0], 1000)
    number.refresh_from_db()
    seats[0].refresh_from_db()
    assert (number.monthly_allowance, seats[0].monthly_allowance) == (1000, 1000)


@pytest.mark.parametrize("value", [-1, 100_001, True, "10", 2.5])
def test_monthly_allowance_bounds(seats, admin, value):
    with pytest.raises(DomainError) as exc:
        services.set_monthly_allowance(admin, seats[0], value)
    assert code_of(exc) == "validation_error"
    seats[0].refresh_from_db()
    assert seats[0].monthly_allowance == 250


def test_set_monthly_allowance_needs_permission(seats, recruiter):
    with pytest.raises(DomainError) as exc:
        services.set_monthly_allowance(recruiter, seats[0], 10)
    assert code_of(exc) == "permission_denied"


# --- monthly charges ----------------------------------------------------------------------


def test_charge_monthly_is_idempotent_and_fills_missed_months(seats, buy):
    number = buy(seats[0], now=datetime(2026, 1, 20, 20, 0, tzinfo=UTC))
    assert services.charge_monthly(now=datetime(2026, 1, 25, tzinfo=UTC)) == 0
    assert services.charge_monthly(now=datetime(2026, 3, 2, 12, 0, tzinfo=UTC)) == 2
    assert services.charge_monthly(now=datetime(2026, 3, 20, tzinfo=UTC)) == 0
    periods = list(
        NumberCharge.objects.filter(number=number)
        .order_by("period")
        .values_list("period", flat=True)
    )
    assert periods == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


def test_charge_monthly_uses_the_organisations_month(seats, buy):
    # 2026-02-01 06:00 UTC is still 31 January, 22:00, in Los Angeles: no February charge yet.
    buy(seats[0], now=datetime(2026, 1, 10, tzinfo=UTC))
    assert services.charge_monthly(now=datetime(2026, 2, 1, 6, 0, tzinfo=UTC)) == 0
    assert services.charge_monthly(now=datetime(2026, 2, 1, 8, 30, tzinfo=UTC)) == 1


def test_number_for_user_is_one_query_with_its_organisation_and_seat(
    seats, buy, admin, make_user, other_seats, other_admin, django_assert_num_queries
):
    """What the ORM's `select_related("organization", "seat")` gave, in one statement: the
    same instance, its organisation's and seat's fields read with it, no query after."""
    buy(seats[1], e164="+14155550143")
    number = buy(seats[0], e164="+14155550142")
    other_number = buy(other_seats[0], e164="+14155550199", actor=other_admin)
    a = make_user("a@acme.test", first="Ann")
    services.assign_user(admin, seats[0], a.pk)
    with django_assert_num_queries(1):
        found = queries.number_for_user(a)
        assert found is not None
        assert (found.organization.name, found.organization.time_zone) == (
            "Acme Staffing",
            "America/Los_Angeles",
        )
        assert (found.seat.pk, found.seat.position) == (seats[0].pk, seats[0].position)
    assert found == number and found.e164 == "+14155550142" and found != other_number
    assert found.purchased_at == PhoneNumber.objects.get(pk=number.pk).purchased_at
    assert (
        found.status == PhoneNumber.Status.ACTIVE
        and found.organization_id == number.organization_id
    )
    # Nobody on a seat, an unsaved user, a released number: no number.
    assert queries.number_for_user(make_user("b@acme.test")) is None
    assert queries.number_for_user(type(a)(organization_id=a.organization_id)) is None
    services.release_number(admin, seats[0])
    assert queries.number_for_user(a) is None
