"""A recruiter texts a candidate; the candidate's (simulated) phone replies, says STOP, START.

Background tasks run with Django's ImmediateBackend (as each is enqueued, inside the live
server's request), so the send, the carrier call and the delivery callback happen before
the page's request returns; the simulator posts its signed webhooks in-process.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from hiretext.ats import services as ats_services
from hiretext.ats.models import Application, Candidate, JobPosting
from hiretext.numbers.models import PhoneNumber, Seat, SeatAssignment
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = "+14155550100"
ALEX = "+14155550123"


@pytest.fixture
def world(settings, org, recruiter):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    seat = Seat.objects.create(organization=org, position=1)
    number = PhoneNumber.objects.create(
        organization=org,
        seat=seat,
        e164=NUMBER,
        carrier="simulator",
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
    job = JobPosting.objects.create(organization=org, title="Senior Welder")
    Application.objects.create(organization=org, candidate=alex, job=job)
    return number, alex, job


def sms_button(page):
    return page.get_by_role("button", name="Send an SMS message")


def phone_says(phone_page, text):
    phone_page.get_by_label("Reply").fill(text)
    phone_page.get_by_role("button", name="Send reply").click()
    expect(phone_page.locator(".bubble-out").last).to_contain_text(text)


def test_recruiter_and_candidate_text_each_other(page, new_page, world, recruiter):
    number, alex, job = world
    login(page, recruiter.email)

    # The job posting shows the blue icon under Actions.
    page.goto(f"/jobs/{job.pk}/")
    expect(sms_button(page)).to_have_attribute("data-sms-state", "new")

    # From the candidate pool: open the modal, watch the counter, send.
    page.goto("/candidates/")
    button = sms_button(page)
    expect(button).to_have_attribute("data-sms-state", "new")
    button.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    composer = dialog.get_by_role("textbox", name="Message")
    composer.fill("Hi Alex, are you free for a call tomorrow at 10?")
    expect(dialog.locator("#sms-counter")).to_have_text("1 message · 48 characters · GSM-7")
    composer.fill("x" * 161)
    expect(dialog.locator("#sms-counter")).to_have_text("2 messages · 161 characters · GSM-7")
    composer.fill("Hi Alex, are you free for a call tomorrow at 10? 🙂")
    expect(dialog.locator("#sms-counter")).to_contain_text("UCS-2")
    dialog.get_by_role("button", name="Send").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(".bubble-out")).to_contain_text("are you free for a call tomorrow")
    expect(dialog.locator(".bubble-out .sms-status")).to_have_text("Delivered")
    expect(sms_button(page)).to_have_attribute("data-sms-state", "active")

    # The candidate's phone received it, and replies.
    phone = new_page()
    phone.goto(f"/simulator/phones/{ALEX}")
    expect(phone.locator(".bubble-in")).to_contain_text("are you free for a call tomorrow")
    phone_says(phone, "Yes, 10 works for me!")

    # The reply appears in the open modal (it refreshes itself).
    expect(dialog.locator(".bubble-in")).to_contain_text("Yes, 10 works for me!", timeout=10_000)
    dialog.get_by_role("button", name="Close").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    # Green on the profile too, next to the phone, with the history section.
    page.goto(f"/candidates/{alex.pk}/")
    expect(sms_button(page)).to_have_attribute("data-sms-state", "active")
    history = page.get_by_role("region", name="SMS Message History")
    expect(history).to_contain_text("Yes, 10 works for me!")

    # STOP: one confirmation on the phone, and the icon disappears.
    phone_says(phone, "Stop")
    expect(phone.locator(".bubble-in").filter(has_text="unsubscribed")).to_have_count(1)
    page.goto("/candidates/")
    expect(page.get_by_role("link", name="Alex Rivera")).to_be_visible()
    expect(sms_button(page)).to_have_count(0)

    # START restores it.
    phone_says(phone, "START")
    expect(
        phone.locator(".bubble-in").filter(has_text=re.compile("subscribed to texts again"))
    ).to_have_count(1)
    page.goto("/candidates/")
    expect(sms_button(page)).to_have_attribute("data-sms-state", "active")
    assert number.conversations.get().messages.count() == 6
