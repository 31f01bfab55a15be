"""Text Messaging Numbers in the browser: buy through both flows, assign and remove users."""

import re

import pytest
from playwright.sync_api import expect

from hiretext.numbers import services
from hiretext.numbers.models import NumberCharge, PhoneNumber, SeatAssignment, TermsAcceptance
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seat_card(page, position):
    return page.locator(f'section.seat[data-seat="{position}"]')


def buy(admin, seat, e164):
    return services.buy_number(admin, seat, area_code=e164[2:5], e164=e164, terms_accepted=True)


@pytest.fixture
def people(org, make_user):
    return {
        "dana": make_user("dana.li@acme.test", first="Dana", last="Li"),
        "sam": make_user("sam.ortiz@acme.test", first="Sam", last="Ortiz"),
        "priya": make_user("priya.nair@acme.test", first="Priya", last="Nair"),
        "jonas": make_user("jonas.berg@acme.test", first="Jonas", last="Berg"),
    }


def test_buy_through_both_flows_then_assign_and_remove_users(page, org, admin, people):
    services.ensure_seats(org, 2)
    login(page, "admin@acme.test")
    page.locator(".adminmenu summary").click()
    page.get_by_role("link", name="Text Messaging Numbers").click()
    expect(page.get_by_role("heading", name="Text Messaging Numbers")).to_be_visible()
    expect(page.locator("section.seat")).to_have_count(2)

    # Auto Assign Number on seat 1: area code, a random number, the terms, Complete Setup.
    seat_card(page, 1).get_by_role("link", name="Auto Assign Number").click()
    page.get_by_label("Area code").fill("41")
    page.get_by_role("button", name="Generate Number").click()
    expect(page.get_by_text("Enter a 3-digit area code")).to_be_visible()
    page.get_by_label("Area code").fill("415")
    page.get_by_role("button", name="Generate Number").click()
    expect(page.get_by_role("heading", name="Complete Setup")).to_be_visible()
    auto_number = page.get_by_test_id("new-number").inner_text()
    assert re.fullmatch(r"\+1 415 555 01\d\d", auto_number)
    expect(page.get_by_text("$5.00 / month").first).to_be_visible()
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Complete Setup").click()
    expect(page.get_by_role("status")).to_contain_text(f"{auto_number} is set up for Seat 1")
    expect(seat_card(page, 1)).to_contain_text(auto_number)
    expect(seat_card(page, 1)).to_contain_text("250 / 250 left this month")

    # Choose Number on seat 2: Generate Numbers fills the list in place, pick one, confirm.
    seat_card(page, 2).get_by_role("link", name="Choose Number").click()
    page.get_by_label("Area code").fill("212")
    page.get_by_role("button", name="Generate Numbers").click()
    options = page.get_by_role("radio")
    expect(options).to_have_count(20)
    expect(page.get_by_text("Available numbers in area code 212")).to_be_visible()
    assert page.url.endswith("/choose/")  # htmx: no page load
    picked = options.nth(2)
    chosen = picked.locator("xpath=..").inner_text().strip()
    picked.check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("new-number")).to_have_text(chosen)
    # Without the ticked terms the browser refuses; nothing is bought.
    page.get_by_role("button", name="Complete Setup").click()
    expect(page.get_by_role("heading", name="Complete Setup")).to_be_visible()
    assert PhoneNumber.objects.count() == 1
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Complete Setup").click()
    expect(seat_card(page, 2)).to_contain_text(chosen)
    assert TermsAcceptance.objects.filter(accepted_by=admin).count() == 2
    assert NumberCharge.objects.count() == 2

    # Assign User: search as you type, pick two, assign.
    seat_card(page, 1).get_by_role("link", name="Assign User").click()
    search = page.get_by_role("searchbox", name="Search users by name")
    search.fill("ortiz")
    expect(page.get_by_role("checkbox")).to_have_count(1)
    page.get_by_role("checkbox", name=re.compile("Sam Ortiz")).check()
    search.fill("dana l")
    # A new search keeps Sam ticked, above the new matches.
    expect(page.get_by_role("checkbox", name=re.compile("Dana Li"))).to_be_visible()
    expect(page.get_by_role("checkbox")).to_have_count(2)
    expect(page.get_by_role("checkbox", name=re.compile("Sam Ortiz"))).to_be_checked()
    page.get_by_role("checkbox", name=re.compile("Dana Li")).check()
    search.fill("")
    expect(page.get_by_role("checkbox", name=re.compile("Priya Nair"))).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile("Dana Li"))).to_be_checked()
    page.get_by_role("checkbox", name=re.compile("Priya Nair")).check()
    page.get_by_role("button", name="Assign User").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Dana Li, Sam Ortiz, Priya Nair assigned to {auto_number}"
    )
    expect(seat_card(page, 1)).to_contain_text("3 users: the most a number can have.")
    expect(seat_card(page, 1)).to_contain_text("Dana Li")
    expect(seat_card(page, 1)).to_contain_text("Priya Nair")

    # Users on a number are no longer offered for another one.
    seat_card(page, 2).get_by_role("link", name="Assign User").click()
    expect(page.get_by_role("checkbox", name=re.compile("Jonas Berg"))).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile("Dana Li"))).to_have_count(0)
    page.get_by_role("link", name="Cancel").click()

    # Remove Dana with the trash icon and its confirmation dialog; Cancel keeps her.
    dana = people["dana"]
    page.get_by_role("link", name="Remove Dana Li").click()
    dialog = page.get_by_role("dialog", name="Remove Dana Li?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert SeatAssignment.objects.filter(user=dana).exists()
    page.get_by_role("link", name="Remove Dana Li").click()
    page.get_by_role("dialog", name="Remove Dana Li?").get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_contain_text(f"Dana Li was removed from {auto_number}.")
    expect(seat_card(page, 1)).not_to_contain_text("Dana Li")
    assert not SeatAssignment.objects.filter(user=dana).exists()


def test_refusals_show_as_messages(page, org, admin, people):
    seats = services.ensure_seats(org, 2)
    buy(admin, seats[0], "+14155550142")
    for key in ("dana", "sam", "priya"):
        services.assign_user(admin, seats[0], people[key].pk)
    login(page, "admin@acme.test")
    page.goto("/admin/text-messaging/")
    expect(seat_card(page, 1)).to_contain_text("3 users: the most a number can have.")
    # Jonas is picked for seat 2 while another admin puts him on seat 1: a clear message.
    seat_card(page, 2).get_by_role("link", name="Assign User").click()
    page.get_by_role("checkbox", name=re.compile("Jonas Berg")).check()
    services.remove_user(admin, seats[0], people["sam"].pk)
    services.assign_user(admin, seats[0], people["jonas"].pk)
    page.get_by_role("button", name="Assign User").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Jonas Berg is already assigned to +1 415 555 0142."
    )
    assert SeatAssignment.objects.filter(user=people["jonas"], seat=seats[0]).exists()


def test_release_with_confirmation(page, org, admin):
    seats = services.ensure_seats(org, 1)
    buy(admin, seats[0], "+14155550142")
    login(page, "admin@acme.test")
    page.goto("/admin/text-messaging/")
    page.get_by_role("link", name="Release Number").click()
    dialog = page.get_by_role("dialog", name="Release +1 415 555 0142?")
    expect(dialog).to_contain_text("monthly charge stops")
    dialog.get_by_role("button", name="Release +1 415 555 0142").click()
    expect(page.get_by_role("status")).to_contain_text("+1 415 555 0142 was released")
    expect(seat_card(page, 1)).to_contain_text("No number yet")
    assert PhoneNumber.objects.get().status == "released"


def test_without_manage_text_messaging_there_is_no_way_in(page, org, recruiter):
    services.ensure_seats(org, 1)
    login(page, "recruiter1@acme.test")
    expect(page.get_by_role("link", name="Text Messaging Numbers")).to_have_count(0)
    page.goto("/admin/text-messaging/")
    expect(page.get_by_role("heading", name="You don't have access to this page")).to_be_visible()
