"""The real SMTP path: a local SMTP server (aiosmtpd) receives what we send, on the wire."""

import email
from email import policy

import pytest

from hiretext.mail import addresses
from hiretext.mail.tests.conftest import ALEX_EMAIL, details
from hiretext.messaging.models import Message

pytestmark = pytest.mark.django_db


def on_the_wire(received):
    return email.message_from_bytes(received.content, policy=policy.default)


def test_an_email_on_the_wire(smtp_server, send, org, recruiter, alex, number):
    message = send(
        recruiter,
        alex,
        subject="Interview <script>alert(1)</script> & more",
        body="Hi Alex,\n<b>bold</b> & <script>alert('x')</script>\nSee you.",
    )
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.sent_at is not None
    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.mail_from == "jobs@hiretext.test"
    assert received.rcpt_tos == [ALEX_EMAIL]

    wire = on_the_wire(received)
    assert wire["From"].addresses[0].display_name == "Acme Staffing"
    assert wire["From"].addresses[0].addr_spec == "jobs@hiretext.test"
    assert wire["To"].addresses[0].addr_spec == ALEX_EMAIL
    reply_to = wire["Reply-To"].addresses[0].addr_spec
    assert reply_to == addresses.reply_address(message.conversation_id)
    assert reply_to.startswith("reply+") and reply_to.endswith("@reply.hiretext.test")
    assert addresses.conversation_from_address(reply_to) == message.conversation_id
    assert str(wire["Subject"]) == "Interview <script>alert(1)</script> & more"
    assert wire["Message-ID"] == details(message).message_id_header
    assert wire["Message-ID"].endswith("@reply.hiretext.test>")
    assert wire["In-Reply-To"] is None and wire["References"] is None

    assert wire.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in wire.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text = wire.get_body(("plain",)).get_content()
    html = wire.get_body(("html",)).get_content()
    assert "<b>bold</b> & <script>alert('x')</script>" in text
    assert "Dana Li" in text and "Acme Staffing" in text
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<script>" not in html and "<b>" not in html
    assert "<title>Interview &lt;script&gt;alert(1)&lt;/script&gt; &amp; more</title>" in html


def test_follow_ups_thread_with_in_reply_to_and_references(
    smtp_server, send, recruiter, alex, number
):
    first = send(recruiter, alex, subject="First", body="One")
    second = send(recruiter, alex, subject="Second", body="Two")
    third = send(recruiter, alex, subject="Third", body="Three")
    ids = [details(m).message_id_header for m in (first, second, third)]
    assert len(set(ids)) == 3
    wires = [on_the_wire(r) for r in smtp_server.received]
    assert [w["Message-ID"] for w in wires] == ids
    # Read as a receiving client reads them: a header longer than a line is folded before
    # its id (RFC 5322 allows it), which leaves a space in front of the value.
    assert addresses.message_ids(wires[1]["In-Reply-To"]) == ids[:1]
    assert str(wires[1]["References"]).split() == ids[:1]
    assert addresses.message_ids(wires[2]["In-Reply-To"]) == ids[1:2]
    assert str(wires[2]["References"]).split() == ids[:2]
    # Every e-mail of the conversation asks for replies at the same address.
    assert len({w["Reply-To"].addresses[0].addr_spec for w in wires}) == 1


def test_header_injection_in_the_subject_is_flattened(smtp_server, send, recruiter, alex, number):
    message = send(
        recruiter, alex, subject="Hello\r\nBcc: victim@example.org\r\n\r\nInjected", body="Hi"
    )
    received = smtp_server.received[0]
    assert received.rcpt_tos == [ALEX_EMAIL]
    wire = on_the_wire(received)
    assert wire["Bcc"] is None
    assert str(wire["Subject"]) == "Hello Bcc: victim@example.org Injected"
    assert b"\r\nBcc:" not in received.content
    assert details(message).subject == "Hello Bcc: victim@example.org Injected"


def test_a_refused_recipient_fails_at_once(smtp_server, send, recruiter, alex, number):
    smtp_server.refuse_rcpt = "550 5.1.1 No such user"
    message = send(recruiter, alex)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.error_code == "smtp_550"
    assert "refused the recipient" in message.error_message
    assert message.attempts == 1


def test_a_busy_server_is_retried_then_given_up(smtp_server, send, recruiter, alex, number):
    smtp_server.refuse_data = "451 4.3.0 Try again later"
    message = send(recruiter, alex)
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.attempts == 5
    assert message.error_code == "smtp_451"


def test_a_server_that_comes_back_gets_the_email(smtp_server, send, recruiter, alex, number):
    calls = {"n": 0}
    original = type(smtp_server).handle_DATA

    async def flaky(self, server, session, envelope):
        calls["n"] += 1
        if calls["n"] == 1:
            return "421 4.7.0 Slow down"
        return await original(self, server, session, envelope)

    type(smtp_server).handle_DATA = flaky
    try:
        message = send(recruiter, alex)
    finally:
        type(smtp_server).handle_DATA = original
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.attempts == 2
    assert len(smtp_server.received) == 1


def test_no_server_listening_is_retried_then_failed(settings, send, recruiter, alex, number):
    from hiretext.mail.tests.conftest import free_port

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    message = send(recruiter, alex)
    message.refresh_from_db()
    assert (message.status, message.error_code, message.attempts) == (
        Message.Status.FAILED,
        "mail_unavailable",
        5,
    )
    assert "could not be reached" in message.error_message
