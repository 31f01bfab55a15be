"""Reply e-mails: who gets one, what it says (escaped), throttling, the setting, the task."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hiretext.inbox import services
from hiretext.inbox.models import Attention, ReplyNotice
from hiretext.inbox.tests.conftest import inbound
from hiretext.messaging.models import Conversation, Message
from tests.threads import run_threads

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = 'Sure! <script>alert("x")</script> & <b>bold</b>\nSecond line'


def recipients(mailoutbox):
    return sorted(address for m in mailoutbox for address in m.to)


def test_each_user_on_the_number_gets_one_email_with_the_reply(
    team, alex, client, immediate, mailoutbox, settings
):
    settings.HIRETEXT_PUBLIC_URL = "https://hire.example.com"
    inbound(client, HOSTILE)
    assert recipients(mailoutbox) == ["recruiter1@acme.test", "recruiter2@acme.test"]
    conversation = Conversation.objects.get()
    email = next(m for m in mailoutbox if m.to == ["recruiter1@acme.test"])
    # One line, no header injection, the person's name first.
    assert email.subject == (
        'Alex Rivera replied: Sure! <script>alert("x")</script> & <b>bold</b> Second line'
    )
    assert "\n" not in email.subject
    assert HOSTILE in email.body  # plain text: as written, not HTML-escaped
    assert f"https://hire.example.com/inbox/chats/{conversation.pk}/" in email.body
    assert "https://hire.example.com/inbox/settings/" in email.body
    assert "+14155550100" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert f'href="https://hire.example.com/inbox/chats/{conversation.pk}/"' in html
    assert email.extra_headers["Auto-Submitted"] == "auto-generated"
    # In the organisation's zone (Los Angeles), not UTC.
    assert " PST" in email.body or " PDT" in email.body


def test_without_a_public_url_the_email_has_no_broken_link(
    team, alex, client, immediate, mailoutbox
):
    inbound(client, "Hi")
    body = mailoutbox[0].body
    assert "http" not in body
    assert "Reply in hiretext, under Chats." in body


def test_other_numbers_and_other_organisations_get_nothing(
    team, alex, client, immediate, mailoutbox, other_admin
):
    inbound(client, "Hi")
    assert "recruiter3@acme.test" not in recipients(mailoutbox)
    assert "admin@beacon.test" not in recipients(mailoutbox)


def test_the_setting_turns_emails_off(team, alex, client, immediate, mailoutbox):
    _, _, r1, r2, _ = team
    services.set_notify_on_reply(r2, False)
    inbound(client, "Hi")
    assert recipients(mailoutbox) == ["recruiter1@acme.test"]


def test_at_most_one_email_per_conversation_per_throttle_window(
    team, alex, client, immediate, mailoutbox, settings
):
    settings.HIRETEXT_NOTIFY_THROTTLE_SECONDS = 300
    inbound(client, "One", message_id="m1")
    inbound(client, "Two", message_id="m2")
    inbound(client, "Three", message_id="m3")
    assert len(mailoutbox) == 2  # one each, for the first reply only
    assert {m.subject for m in mailoutbox} == {"Alex Rivera replied: One"}
    # Once the window has passed, the next reply is e-mailed again.
    Attention.objects.update(notified_at=timezone.now() - timedelta(seconds=301))
    inbound(client, "Four", message_id="m4")
    assert len(mailoutbox) == 4
    assert {m.subject for m in mailoutbox[2:]} == {"Alex Rivera replied: Four"}


def test_throttle_is_per_conversation(team, alex, client, immediate, mailoutbox, org, recruiter):
    from hiretext.messaging.tests.conftest import make_candidate

    make_candidate(org, recruiter, mobile="+14155550199", first="Bo", last="Lee")
    inbound(client, "From Alex", message_id="a1")
    inbound(client, "From Bo", sender="+14155550199", message_id="b1")
    assert sorted(m.subject for m in mailoutbox) == [
        "Alex Rivera replied: From Alex",
        "Alex Rivera replied: From Alex",
        "Bo Lee replied: From Bo",
        "Bo Lee replied: From Bo",
    ]


def test_a_user_looking_at_the_conversation_is_not_emailed(
    team, alex, client, immediate, mailoutbox
):
    _, _, r1, r2, _ = team
    inbound(client, "First", message_id="m1")
    mailoutbox.clear()
    Attention.objects.update(notified_at=None)
    conversation = Conversation.objects.get()
    services.open_conversation(r1, conversation)  # r1 has it open
    inbound(client, "Second", message_id="m2")
    assert recipients(mailoutbox) == ["recruiter2@acme.test"]


def test_looking_a_while_ago_does_not_count(team, alex, client, immediate, mailoutbox, settings):
    _, _, r1, _, _ = team
    settings.HIRETEXT_NOTIFY_LOOKING_SECONDS = 30
    inbound(client, "First", message_id="m1")
    conversation = Conversation.objects.get()
    services.open_conversation(r1, conversation)
    Attention.objects.update(
        seen_at=timezone.now() - timedelta(seconds=31),
        notified_at=timezone.now() - timedelta(hours=1),
    )
    mailoutbox.clear()
    inbound(client, "Second", message_id="m2")
    assert recipients(mailoutbox) == ["recruiter1@acme.test", "recruiter2@acme.test"]


def test_a_unknown_phone_is_named_by_its_number(team, client, immediate, mailoutbox):
    inbound(client, "Who is this?", sender="+13125550177")
    assert mailoutbox[0].subject == "+13125550177 replied: Who is this?"


def test_a_long_reply_is_cut_in_the_subject_not_in_the_body(
    team, alex, client, immediate, mailoutbox
):
    inbound(client, "word " * 400)
    subject = mailoutbox[0].subject
    assert subject.endswith("…") and len(subject) == len("Alex Rivera replied: ") + 60
    assert ("word " * 400).strip() in mailoutbox[0].body


def test_emails_are_sent_by_the_notifier_not_in_the_webhook_request(
    team, alex, client, mailoutbox, settings
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    response = inbound(client, "Hi")
    assert response.status_code == 200
    assert mailoutbox == []
    message = Message.objects.get(direction=Message.Direction.INBOUND)
    assert list(ReplyNotice.objects.values_list("message_id", flat=True)) == [message.pk]
    assert not DBTaskResult.objects.exists()
    # What the worker's notifier then does:
    assert services.send_reply_emails() == 1
    assert recipients(mailoutbox) == ["recruiter1@acme.test", "recruiter2@acme.test"]
    assert not ReplyNotice.objects.exists()
    assert services.send_reply_emails() == 0 and len(mailoutbox) == 2


def test_the_notifier_takes_the_oldest_notices_first_and_goes_on_past_a_failure(
    team, alex, client, mailoutbox, settings, monkeypatch, caplog
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.HIRETEXT_NOTIFY_THROTTLE_SECONDS = 0
    for k in range(3):
        inbound(client, f"Reply {k}", message_id=f"SIMn{k}")
    first, _, third = Message.objects.filter(direction="in").order_by("id")
    ReplyNotice.objects.create(message_id=10**12)  # its message is gone: nothing to send
    real = services.notify_reply

    def flaky(message_id, now=None):
        if message_id == first.pk:
            raise ConnectionError("SMTP down")
        return real(message_id, now)

    monkeypatch.setattr(services, "notify_reply", flaky)
    assert services.send_reply_emails(limit=2) == 2  # the first two, the first failing
    assert "Could not send the reply e-mails of message" in caplog.text
    assert [m.subject for m in mailoutbox] == ["Alex Rivera replied: Reply 1"] * 2
    assert list(ReplyNotice.objects.values_list("message_id", flat=True)) == [third.pk, 10**12]
    assert services.send_reply_emails() == 2
    assert [m.subject for m in mailoutbox][2:] == ["Alex Rivera replied: Reply 2"] * 2
    assert not ReplyNotice.objects.exists()


def test_the_worker_notifier_sends_until_stopped(team, alex, client, mailoutbox, settings):
    import threading

    from hiretext.accounts.management.commands.worker import notify_replies

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    inbound(client, "Hi")
    stopping = threading.Event()
    thread = threading.Thread(target=notify_replies, args=(stopping, 0.05))
    thread.start()
    try:
        deadline = timezone.now() + timedelta(seconds=10)
        while ReplyNotice.objects.exists() and timezone.now() < deadline:
            stopping.wait(0.05)
    finally:
        stopping.set()
        thread.join(10)
    assert not thread.is_alive()
    assert recipients(mailoutbox) == ["recruiter1@acme.test", "recruiter2@acme.test"]


def test_outbound_and_unknown_messages_send_nothing(team, alex, immediate, mailoutbox):
    from hiretext.messaging import services as messaging_services

    _, _, r1, _, _ = team
    sent = messaging_services.send_message(r1, alex, "Hello").message
    assert services.notify_reply(sent.pk) == []
    assert services.notify_reply(10**12) == []
    assert mailoutbox == []


def test_a_failed_send_gives_the_slot_back(team, alex, client, mailoutbox, monkeypatch, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    inbound(client, "Hi")
    message = Message.objects.get(direction=Message.Direction.INBOUND)

    def broken(self, *args, **kwargs):
        raise ConnectionError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
    with pytest.raises(ConnectionError):
        services.notify_reply(message.pk)
    assert not Attention.objects.filter(notified_at__isnull=False).exists()
    monkeypatch.undo()
    assert len(services.notify_reply(message.pk)) == 2


def test_parallel_notifiers_take_each_notice_once(team, alex, client, settings, monkeypatch):
    """Notifiers on several workers (threads here, with their own connections) never take
    the same notice: SKIP LOCKED on PostgreSQL, the single writer on SQLite."""
    import threading

    from django.db import connections

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    for k in range(24):
        inbound(client, f"Reply {k}", message_id=f"SIMp{k}")
    taken: list[int] = []
    monkeypatch.setattr(services, "notify_reply", lambda message_id: taken.append(message_id))
    start = threading.Barrier(4)

    def notifier() -> None:
        try:
            start.wait(10)
            while services.send_reply_emails(limit=3) > 0:
                pass
        finally:
            connections.close_all()

    run_threads(notifier, 4, timeout=30)
    received = Message.objects.filter(direction="in").values_list("id", flat=True)
    assert sorted(taken) == sorted(received) and len(taken) == 24
    assert not ReplyNotice.objects.exists()
