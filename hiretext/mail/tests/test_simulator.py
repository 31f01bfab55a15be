"""The simulator's mailboxes: outbound e-mail lands there; replies reach the app, signed."""

import json

import pytest

from hiretext.carriers.simulator import phones
from hiretext.mail.models import SimulatorMail
from hiretext.mail.tests.conftest import ALEX_EMAIL, details, inbound_emails

pytestmark = pytest.mark.django_db

SIMULATOR_MAILER = {"default": {"BACKEND": "hiretext.mail.backends.SimulatorMailboxBackend"}}


@pytest.fixture
def mailbox(settings):
    settings.MAILERS = SIMULATOR_MAILER


@pytest.fixture
def sent(mailbox, send, recruiter, alex, number):
    return send(recruiter, alex, subject="Interview <Tuesday>", body="Hi Alex,\nfree at 10?")


def reply(client, payload, **kwargs):
    return client.post(
        "/simulator/api/mail-reply", data=json.dumps(payload), content_type="application/json"
    )


def test_outbound_email_lands_in_the_mailbox(client, sent):
    response = client.get("/simulator/api/mailbox", {"address": ALEX_EMAIL.upper()})
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["from"] == "Acme Staffing <jobs@hiretext.test>"
    assert item["to"] == ALEX_EMAIL
    assert item["reply_to"] == details(sent).reply_to
    assert item["subject"] == "Interview <Tuesday>"
    assert item["text"].startswith("Hi Alex,\nfree at 10?")
    assert item["headers"]["Message-ID"] == details(sent).message_id_header
    assert item["message_id"] == details(sent).message_id_header
    sent.refresh_from_db()
    assert sent.status == "sent"
    assert client.get("/simulator/api/mailbox", {"address": "nobody@example.com"}).json() == {
        "items": []
    }


def test_mail_reply_reaches_the_conversation(client, sent, django_capture_on_commit_callbacks):
    item = client.get("/simulator/api/mailbox", {"address": ALEX_EMAIL}).json()["items"][0]
    with django_capture_on_commit_callbacks(execute=True):
        response = reply(
            client,
            {
                "from": ALEX_EMAIL,
                "to": item["reply_to"],
                "subject": "Re: " + item["subject"],
                "text": "Yes, 10 works.",
                "in_reply_to": item["message_id"],
            },
        )
    assert response.status_code == 202
    data = response.json()
    assert data["stored"] is True and data["webhook_status"] == 200
    message = inbound_emails().get()
    assert message.conversation_id == sent.conversation_id
    assert message.body == "Yes, 10 works."  # the simulator quoted the original; not shown
    kept = details(message)
    assert "wrote:\n> Hi Alex," in kept.full_text
    assert kept.provider == "simulator" and kept.in_reply_to == item["message_id"]
    assert kept.message_id_header == data["message_id"]
    sent_copy = SimulatorMail.objects.get(direction="sent")
    assert sent_copy.address == ALEX_EMAIL and sent_copy.subject == "Re: Interview <Tuesday>"


def test_mail_reply_without_in_reply_to_matches_by_address(client, sent):
    response = reply(
        client,
        {"from": ALEX_EMAIL, "to": details(sent).reply_to, "subject": "Re", "text": "Hi"},
    )
    assert response.json()["stored"] is True


def test_mail_reply_from_a_stranger_is_not_stored(client, sent):
    response = reply(
        client,
        {"from": "stranger@example.org", "to": details(sent).reply_to, "subject": "x", "text": "x"},
    )
    assert response.status_code == 202 and response.json()["stored"] is False
    assert not inbound_emails().exists()


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"to": "a@b.co", "subject": "s", "text": "t"}, "“from”"),
        ({"from": "not an address", "to": "a@b.co", "text": "t"}, "“from”"),
        ({"from": "a@b.co", "to": "x@@y", "text": "t"}, "“to”"),
        ({"from": "a@b.co", "to": "d@e.fr", "subject": "a\r\nBcc: x@y.z", "text": "t"}, "one line"),
        ({"from": "a@b.co", "to": "d@e.fr", "subject": 5, "text": "t"}, "“subject”"),
        ({"from": "a@b.co", "to": "d@e.fr", "text": "t" * 100_001}, "“text”"),
        ({"from": "a@b.co", "to": "d@e.fr", "text": ["t"]}, "“text”"),
        ({"from": "a@b.co", "to": "d@e.fr", "text": "t", "in_reply_to": "nope"}, "Message-ID"),
        ({"from": "a@b.co", "to": "d@e.fr", "text": "t", "in_reply_to": "<a\nb@c>"}, "Message-ID"),
    ],
)
def test_mail_reply_validation(client, payload, problem, db):
    response = reply(client, payload)
    assert response.status_code == 400
    assert problem in response.json()["detail"]


@pytest.mark.parametrize("raw", [b"not json", b"[1]", b"\xff\xfe"])
def test_mail_reply_needs_a_json_object(client, raw, db):
    response = client.post("/simulator/api/mail-reply", data=raw, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("address", ["", "nope", "a" * 300 + "@example.com", "a@b.c\r\nx"])
def test_mailbox_needs_an_address(client, address, db):
    assert client.get("/simulator/api/mailbox", {"address": address}).status_code == 400


def test_simulator_webhook_checks_its_signature(client, sent):
    raw = b"From: alex.rivera@example.com\r\nTo: x@y.z\r\n\r\nhi"
    response = client.post(
        "/webhooks/email/simulator/inbound",
        data=raw,
        content_type="message/rfc822",
        headers={"X-Simulator-Signature": "0" * 64},
    )
    assert response.status_code == 403
    response = client.post(
        "/webhooks/email/simulator/inbound",
        data=b"",
        content_type="message/rfc822",
        headers={"X-Simulator-Signature": phones.sign(b"")},
    )
    assert response.status_code == 400
    assert not inbound_emails().exists()


def test_turned_off_simulator_serves_nothing(client, settings, sent):
    settings.HIRETEXT_SIMULATOR_ENABLED = False
    assert client.get("/simulator/api/mailbox", {"address": ALEX_EMAIL}).status_code == 404
    assert reply(client, {"from": ALEX_EMAIL, "to": "a@b.co", "text": "x"}).status_code == 404
    assert client.get("/simulator/mailbox", {"address": ALEX_EMAIL}).status_code == 404
    raw = b"From: a@b.c\r\n\r\nhi"
    response = client.post(
        "/webhooks/email/simulator/inbound",
        data=raw,
        content_type="message/rfc822",
        headers={"X-Simulator-Signature": phones.sign(raw)},
    )
    assert response.status_code == 404


def test_mailbox_page_and_its_reply_form(client, sent):
    page = client.get("/simulator/mailbox", {"address": ALEX_EMAIL})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Interview &lt;Tuesday&gt;" in html and "<Tuesday>" not in html
    assert f'name="to" value="{details(sent).reply_to}"' in html
    response = client.post(
        "/simulator/mailbox/reply",
        {
            "from": ALEX_EMAIL,
            "to": details(sent).reply_to,
            "subject": "Re: Interview",
            "text": "See you <then>",
            "in_reply_to": details(sent).message_id_header,
        },
    )
    assert response.status_code == 302
    assert "sent=1" in response["Location"]
    assert inbound_emails().get().body == "See you <then>"
    html = client.get(response["Location"]).content.decode()
    assert "Your reply was delivered to the app." in html
    assert "See you &lt;then&gt;" in html
    bad = client.post("/simulator/mailbox/reply", {"from": "x", "to": "y", "text": "z"})
    assert bad.status_code == 400
    assert client.get("/simulator/mailbox", {"address": "nope"}).status_code == 400
