"""Two recruiters share a number: a reply rings both bells live; one reads it, both clear.

The live server is pytest-django's threaded WSGI server: the stream view streams there
too (HIRETEXT_EVENTS_WSGI_HOLD_SECONDS: its WSGI driver polls the event table and writes
each event as it comes; wsgiref flushes every chunk). The ASGI driver is tested against
a real ASGI server in hiretext/inbox/tests/test_asgi_stream.py.
"""

import pytest
from django.core import mail
from playwright.sync_api import expect

from hiretext.ats import services as ats_services
from hiretext.ats.models import Candidate
from hiretext.messaging.models import Conversation
from hiretext.messaging.tests.conftest import make_number
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NUMBER = "+14155550100"
OTHER = "+14155550101"
ALEX = "+14155550123"


@pytest.fixture
def world(settings, org, recruiter, make_user):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.HIRETEXT_EVENTS_POLL_SECONDS = 0.1
    settings.HIRETEXT_EVENTS_HEARTBEAT_SECONDS = 1
    settings.HIRETEXT_EVENTS_MAX_SECONDS = 60
    settings.HIRETEXT_EVENTS_WSGI_HOLD_SECONDS = 60  # the threaded test server may hold
    second = make_user("recruiter2@acme.test", first="Sam", last="Okafor")
    third = make_user("recruiter3@acme.test", first="Jo", last="Third")
    make_number(org, [recruiter, second])
    make_number(org, [third], e164=OTHER, position=2)
    alex = ats_services.create_person(
        Candidate,
        org,
        recruiter,
        {"first_name": "Alex", "last_name": "Rivera", "mobile": ALEX},
        sms_consent=True,
        consent_note="Ticked the box when applying",
    )
    return recruiter, second, third, alex


def bell(page):
    return page.locator("#inbox-bell .bell")


def open_live(page, email):
    login(page, email)
    page.goto("/candidates/")
    expect(bell(page)).to_have_attribute("data-unread", "0")
    expect(page.locator("html")).to_have_attribute("data-inbox-live", "open")


def test_reply_rings_both_bells_and_reading_clears_both(new_page, world):
    first, second, third, alex = world
    pages = {}
    for user in (first, second, third):
        pages[user.email] = new_page()
        open_live(pages[user.email], user.email)
    one, two, other = (pages[u.email] for u in (first, second, third))

    # The candidate replies from the simulated phone.
    phone = new_page()
    phone.goto(f"/simulator/phones/{ALEX}?to=%2B14155550100")
    phone.get_by_label("Reply").fill("Yes, <b>10</b> works for me!")
    phone.get_by_role("button", name="Send reply").click()
    expect(phone.locator(".bubble-out").last).to_contain_text("works for me")

    # Both bells show 1 within a second, without a reload.
    for page in (one, two):
        expect(page.locator("#inbox-bell .count")).to_have_text("1", timeout=1000)
        expect(bell(page)).to_have_attribute("aria-label", "Notifications: 1 unread conversation")

    # Recruiter one opens the bell: the widget lists the reply (escaped); opens it.
    bell(one).click()
    widget = one.locator("#inbox-widget")
    item = widget.get_by_role("link", name="Alex Rivera")
    expect(item).to_contain_text("Yes, <b>10</b> works for me!")
    item.click()
    expect(one).to_have_url(f"/inbox/chats/{Conversation.objects.get().pk}/")
    expect(one.locator("#chat-thread .bubble-in")).to_contain_text("Yes, <b>10</b> works")

    # The other recruiter's bell drops to 0 without a reload.
    expect(two.locator("#inbox-bell .count")).to_be_hidden(timeout=2000)
    expect(bell(two)).to_have_attribute("data-unread", "0")
    expect(two).to_have_url("/candidates/")

    # The third recruiter, on another number, never saw any of it.
    expect(bell(other)).to_have_attribute("data-unread", "0")
    expect(other.locator("#inbox-bell .count")).to_be_hidden()
    bell(other).click()
    expect(other.locator("#inbox-widget")).to_contain_text("No unread conversations")
    expect(other.locator("#inbox-widget")).not_to_contain_text("Alex")
    response = other.goto(f"/inbox/chats/{Conversation.objects.get().pk}/")
    assert response.status == 404

    # Each recruiter of the number got one e-mail about the reply; the third none.
    assert sorted(m.to[0] for m in mail.outbox) == ["recruiter1@acme.test", "recruiter2@acme.test"]


def test_chat_panel_start_chat_send_and_status_ticks(new_page, world):
    first, second, _, alex = world
    page = new_page()
    login(page, first.email)
    page.goto("/candidates/")
    page.get_by_role("link", name="Chats").click()
    expect(page.get_by_role("heading", name="Chats")).to_be_visible()
    expect(page.locator("#chat-list")).to_contain_text("No conversations yet")

    # Start chat: search people by name, pick one, write, send.
    page.get_by_text("Start chat", exact=True).click()
    page.get_by_label("Search people by name").fill("Rive")
    page.locator("#people-results").get_by_role("link", name="Alex Rivera").click()
    pane = page.locator("#chat-pane")
    composer = pane.get_by_label("Message", exact=True)
    composer.fill("Hi Alex, can we talk at 10?")
    expect(pane.locator("#chat-counter")).to_have_text("1 message · 27 characters · GSM-7")
    pane.get_by_role("button", name="Send").click()
    bubble = pane.locator(".bubble-out").last
    expect(bubble).to_contain_text("can we talk at 10?")
    expect(bubble.locator(".sms-status")).to_have_text("Delivered")
    expect(bubble.locator(".tick-delivered")).to_have_count(1)
    conversation = Conversation.objects.get()
    expect(page).to_have_url(f"/inbox/chats/{conversation.pk}/")

    # The list (refreshed live) has the conversation; the profile continues the same one.
    expect(page.locator("#chat-list")).to_contain_text("You: Hi Alex, can we talk at 10?")
    expect(page.locator('#chat-list a[aria-current="true"]')).to_contain_text("Alex Rivera")

    # A failed send shows its reason: the candidate's phone rejects the next text.
    from hiretext.carriers.simulator.phone_models import SimulatorPhone

    SimulatorPhone.objects.create(e164=ALEX, fail_status="undelivered", error_code="30006")
    composer = pane.get_by_label("Message", exact=True)
    composer.fill("Are you there?")
    pane.get_by_role("button", name="Send").click()
    failed = pane.locator(".bubble-out").last
    expect(failed).to_contain_text("Are you there?")
    expect(failed.locator(".tick-failed")).to_have_count(1)
    expect(failed.locator(".bubble-error")).to_contain_text("30006")

    # The other recruiter on the number sees the same conversation in their chats.
    other = new_page()
    login(other, second.email)
    other.goto(f"/inbox/chats/with/candidate/{alex.pk}/")
    expect(other).to_have_url(f"/inbox/chats/{conversation.pk}/")
    expect(other.locator("#chat-thread")).to_contain_text("can we talk at 10?")


def test_bell_is_live_even_when_workers_cannot_hold_a_stream(new_page, world, settings, client):
    """The default under WSGI: each request answers and closes; the browser asks again."""
    first, *_ = world
    settings.HIRETEXT_EVENTS_WSGI_HOLD_SECONDS = 0
    settings.HIRETEXT_EVENTS_WSGI_RETRY_MS = 500
    page = new_page()
    login(page, first.email)
    page.goto("/candidates/")
    expect(bell(page)).to_have_attribute("data-unread", "0")
    reply = page.request.post(
        "/simulator/api/inbound", data={"from": ALEX, "to": NUMBER, "body": "Still there?"}
    )
    assert reply.status == 202
    expect(page.locator("#inbox-bell .count")).to_have_text("1", timeout=2500)
