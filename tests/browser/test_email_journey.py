"""A recruiter e-mails a candidate; the candidate answers from the simulator's mailbox.

Outbound e-mail goes to the simulator's mailboxes (the demo's mail backend); the reply is
real MIME posted to the app's signed inbound e-mail webhook. Tasks run at once
(ImmediateBackend), so the send is handed to the mail backend before the page answers.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from hiretext.ats import services as ats_services
from hiretext.ats.models import Candidate
from hiretext.mail.models import EmailDetails
from hiretext.messaging.models import Conversation, Message
from hiretext.numbers.models import PhoneNumber, Seat, SeatAssignment
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALEX_EMAIL = "alex.rivera@example.com"


@pytest.fixture
def world(settings, org, recruiter):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.MAILERS = {"default": {"BACKEND": "hiretext.mail.backends.SimulatorMailboxBackend"}}
    seat = Seat.objects.create(organization=org, position=1)
    PhoneNumber.objects.create(
        organization=org,
        seat=seat,
        e164="+14155550100",
        carrier="simulator",
        purchased_at=timezone.now(),
    )
    SeatAssignment.objects.create(organization=org, seat=seat, user=recruiter, slot=1)
    return ats_services.create_person(
        Candidate,
        org,
        recruiter,
        {
            "first_name": "Alex",
            "last_name": "Rivera",
            "mobile": "+14155550123",
            "email": ALEX_EMAIL,
        },
        sms_consent=True,
        consent_note="Ticked the box when applying",
    )


def test_email_a_candidate_and_see_the_reply_everywhere(page, new_page, world, recruiter):
    alex = world
    login(page, recruiter.email)

    # The modal: switch the composer to e-mail; the subject appears and is required.
    page.goto("/candidates/")
    page.get_by_role("button", name="Send an SMS message").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("radio", name="SMS")).to_be_checked()
    expect(dialog.get_by_role("textbox", name="Subject")).to_be_hidden()
    dialog.get_by_role("radio", name="E-mail").check()
    subject = dialog.get_by_role("textbox", name="Subject")
    expect(subject).to_be_visible()
    expect(dialog.locator("#sms-counter")).to_be_hidden()
    dialog.get_by_role("textbox", name="Message").fill("Hi Alex, <b>are</b> you free on Tuesday?")
    dialog.get_by_role("button", name="Send").click()
    # Both fields are needed: the browser keeps the form until the subject is written.
    expect(subject).to_be_focused()
    assert not Message.objects.exists()
    subject.fill("Interview <Tuesday>")
    dialog.get_by_role("button", name="Send").click()

    dialog = page.get_by_role("dialog")
    bubble = dialog.locator(".bubble-out").last
    expect(bubble.locator(".bubble-subject")).to_have_text("Interview <Tuesday>")
    expect(bubble.locator(".bubble-body")).to_have_text("Hi Alex, <b>are</b> you free on Tuesday?")
    expect(bubble.locator(".sms-status")).to_have_text("Sent")
    expect(dialog.get_by_role("radio", name="E-mail")).to_be_checked()

    # The candidate's mailbox has it, with the conversation's reply address.
    reply_to = EmailDetails.objects.get().reply_to
    mailbox = new_page()
    mailbox.goto(f"/simulator/mailbox?address={ALEX_EMAIL}")
    mail = mailbox.get_by_role("article", name="Interview <Tuesday>")
    expect(mail).to_contain_text("Reply-To " + reply_to)
    expect(mail).to_contain_text("Hi Alex, <b>are</b> you free on Tuesday?")
    mail.get_by_text("Reply", exact=True).click()
    mail.get_by_label("Your reply").fill("Tuesday at 10 works <i>great</i>.\n\nSent from my phone")
    mail.get_by_role("button", name="Send reply").click()
    expect(mailbox.get_by_role("status")).to_have_text("Your reply was delivered to the app.")

    # The open modal shows the reply (it refreshes itself), without the quoted e-mail.
    reply = dialog.locator(".bubble-in").last
    expect(reply).to_contain_text("Tuesday at 10 works <i>great</i>.", timeout=10_000)
    expect(reply.locator(".bubble-subject")).to_have_text("Re: Interview <Tuesday>")
    expect(reply.locator(".bubble-body")).not_to_contain_text("wrote:")
    expect(reply.locator(".bubble-body")).not_to_contain_text("Sent from my phone")
    reply.get_by_text("Full e-mail").click()
    expect(reply.locator(".email-original")).to_contain_text("> Hi Alex, <b>are</b> you free")
    dialog.get_by_role("button", name="Close").click()

    # The chat panel has the same conversation.
    conversation = Conversation.objects.get()
    page.goto(f"/inbox/chats/{conversation.pk}/")
    expect(page.locator("#chat-thread .bubble-in")).to_contain_text("Tuesday at 10 works")

    # The Communications tab: every text and e-mail in order, and the composer continues it.
    page.goto(f"/candidates/{alex.pk}/")
    page.get_by_role("link", name="Communications").click()
    expect(page).to_have_url(f"/candidates/{alex.pk}/communications/")
    section = page.get_by_role("region", name="Communications")
    bubbles = section.locator(".bubble")
    expect(bubbles).to_have_count(2)
    expect(bubbles.nth(0)).to_contain_text("Interview <Tuesday>")
    expect(bubbles.nth(1)).to_contain_text("Tuesday at 10 works <i>great</i>.")
    section.get_by_role("radio", name="SMS").check()
    section.get_by_role("textbox", name="Message").fill("Great, see you Tuesday!")
    section.get_by_role("button", name="Send").click()
    expect(bubbles).to_have_count(3)
    expect(bubbles.nth(2)).to_contain_text("Great, see you Tuesday!")
    expect(bubbles.nth(2).locator(".channel-tag")).to_have_text("SMS")
    assert list(conversation.messages.order_by("id").values_list("channel", "direction")) == [
        ("email", "out"),
        ("email", "in"),
        ("sms", "out"),
    ]
