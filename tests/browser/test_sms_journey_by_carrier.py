"""The recruiter's SMS journey in the browser, once per carrier (simulator, Twilio via Prism).

The recruiter side runs in Chromium; the candidate's phone is driven through the carrier's
own signed webhooks by `carrier_driver` (tests/mocks/drivers.py). Background tasks run
with Django's ImmediateBackend, so each send reaches the carrier before the page returns.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from hiretext.ats import services as ats_services
from hiretext.ats.models import Candidate
from hiretext.numbers.models import PhoneNumber, Seat, SeatAssignment
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = "+14155550100"
ALEX = "+14155550123"


@pytest.fixture
def world(settings, org, admin, recruiter, api_as, carrier_driver):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    carrier_driver.configure(api_as(admin))
    seat = Seat.objects.create(organization=org, position=1)
    number = PhoneNumber.objects.create(
        organization=org,
        seat=seat,
        e164=NUMBER,
        carrier=carrier_driver.slug,
        purchased_at=timezone.now(),
    )
    SeatAssignment.objects.create(organization=org, seat=seat, user=recruiter, slot=1)
    alex = ats_services.create_person(
        Candidate,
        org,
        recruiter,
        {"first_name": "Alex", "last_name": "Rivera", "mobile": ALEX},
        sms_consent=True,
        consent_note="Ticked the box when applying",
    )
    return number, alex


def sms_button(page):
    return page.get_by_role("button", name="Send an SMS message")


def test_recruiter_and_candidate_text_each_other(page, world, recruiter, carrier_driver, client):
    number, alex = world
    login(page, recruiter.email)

    page.goto("/candidates/")
    expect(sms_button(page)).to_have_attribute("data-sms-state", "new")
    sms_button(page).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("textbox", name="Message").fill("Hi Alex, are you free at 10? <b>x</b>")
    dialog.get_by_role("button", name="Send").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(".bubble-out")).to_contain_text("are you free at 10? <b>x</b>")

    carrier_driver.report(client)  # Twilio's status callbacks; the simulator's came already
    expect(dialog.locator(".bubble-out .sms-status")).to_have_text("Delivered", timeout=10_000)
    assert carrier_driver.received(ALEX) == ["Hi Alex, are you free at 10? <b>x</b>"]

    carrier_driver.text_in(client, ALEX, NUMBER, "Yes, 10 works for me! <script>x</script>")
    expect(dialog.locator(".bubble-in")).to_contain_text(
        "Yes, 10 works for me! <script>x</script>", timeout=10_000
    )
    dialog.get_by_role("button", name="Close").click()

    page.goto(f"/candidates/{alex.pk}/")
    expect(sms_button(page)).to_have_attribute("data-sms-state", "active")

    carrier_driver.text_in(client, ALEX, NUMBER, "Stop")
    carrier_driver.report(client)
    assert len([b for b in carrier_driver.received(ALEX) if "unsubscribed" in b]) == 1
    page.goto("/candidates/")
    expect(page.get_by_role("link", name="Alex Rivera")).to_be_visible()
    expect(sms_button(page)).to_have_count(0)

    carrier_driver.text_in(client, ALEX, NUMBER, "START")
    carrier_driver.report(client)
    assert any(re.search("subscribed to texts again", b) for b in carrier_driver.received(ALEX))
    page.goto("/candidates/")
    expect(sms_button(page)).to_have_attribute("data-sms-state", "active")
    assert number.conversations.get().messages.count() == 6
