"""Sending e-mail: every refusal code, what is written, idempotency, the API."""

import pytest

from hiretext.accounts.models import Role
from hiretext.ats.models import ActivityEntry
from hiretext.mail import addresses
from hiretext.mail.models import EmailDetails
from hiretext.mail.tests.conftest import ALEX_EMAIL, make_person
from hiretext.messaging import signals
from hiretext.messaging.models import Message

pytestmark = pytest.mark.django_db


def post(api, person, key=None, **fields):
    body = {"candidate_id": person.pk, "channel": "email", **fields}
    return api.post("/messages", body, headers={"Idempotency-Key": key} if key else None)


def test_accepted_email_is_written_with_its_headers(api_as, recruiter, alex, number):
    response = post(api_as(recruiter), alex, subject="Interview", body="Hi Alex")
    assert response.status_code == 202
    data = response.json()
    assert data["status"] == "queued" and data["segments"] == 0
    message = Message.objects.get(pk=data["id"])
    assert (message.channel, message.carrier, message.direction) == ("email", "email", "out")
    assert message.conversation.number == number and message.conversation.candidate == alex
    details = EmailDetails.objects.get(message=message)
    assert details.subject == "Interview" and details.to_address == ALEX_EMAIL
    assert details.from_address == "jobs@hiretext.test"
    assert addresses.conversation_from_address(details.reply_to) == message.conversation_id
    entry = ActivityEntry.objects.get(kind=ActivityEntry.Kind.EMAIL_OUT)
    assert entry.summary == f"E-mail to {ALEX_EMAIL} (Dana Li): Interview"
    assert entry.body == "Hi Alex" and entry.ref_id == message.pk and entry.actor == recruiter
    got = api_as(recruiter).get(f"/messages/{message.pk}").json()
    assert got["subject"] == "Interview" and got["channel"] == "email"


def test_email_and_sms_share_one_conversation(api_as, recruiter, alex, number):
    api = api_as(recruiter)
    sms = api.post("/messages", {"candidate_id": alex.pk, "body": "Text first"}).json()
    email = post(api, alex, subject="Then e-mail", body="Details").json()
    assert sms["conversation_id"] == email["conversation_id"]
    items = api.get(f"/conversations/{sms['conversation_id']}/messages").json()["items"]
    assert [(m["channel"], m["subject"]) for m in items] == [
        ("email", "Then e-mail"),
        ("sms", None),
    ]


@pytest.mark.parametrize("subject", [None, "", "   ", "\r\n\t"])
def test_subject_required(api_as, recruiter, alex, number, subject):
    fields = {"body": "Hi"} | ({} if subject is None else {"subject": subject})
    response = post(api_as(recruiter), alex, **fields)
    assert (response.status_code, response.json()["code"]) == (422, "subject_required")
    assert not Message.objects.exists()


@pytest.mark.parametrize("body", ["", "  \n "])
def test_body_required(api_as, recruiter, alex, number, body):
    response = post(api_as(recruiter), alex, subject="Hello", body=body)
    assert (response.status_code, response.json()["code"]) == (422, "body_required")
    assert not Message.objects.exists()


def test_no_email_address(api_as, org, recruiter, number):
    person = make_person(org, recruiter, email="")
    response = post(api_as(recruiter), person, subject="Hi", body="Hi")
    assert (response.status_code, response.json()["code"]) == (422, "no_email_address")
    assert "has no e-mail address" in response.json()["detail"]


def test_invalid_stored_address_is_refused(api_as, org, recruiter, alex, number):
    type(alex).objects.filter(pk=alex.pk).update(email="alex@exa mple\r\nBcc: x@y.z")
    response = post(api_as(recruiter), alex, subject="Hi", body="Hi")
    assert (response.status_code, response.json()["code"]) == (422, "invalid_email_address")
    assert not Message.objects.exists()


def test_no_seat(api_as, make_user, alex, number):
    lonely = make_user("lonely@acme.test", Role.RECRUITER)
    response = post(api_as(lonely), alex, subject="Hi", body="Hi")
    assert (response.status_code, response.json()["code"]) == (422, "no_seat")


def test_needs_recruitment_sms(api_as, manager, alex, number):
    response = post(api_as(manager), alex, subject="Hi", body="Hi")
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_another_organisations_person_is_404(api_as, other_admin, alex, number):
    response = post(api_as(other_admin), alex, subject="Hi", body="Hi")
    assert response.status_code == 404


def test_no_sms_consent_needed_and_rejections_allowed(api_as, org, recruiter, number):
    """Consent is for texts; rejections must go by e-mail (DESIGN: Sending)."""
    person = make_person(org, recruiter, consent=False, mobile="")
    response = post(api_as(recruiter), person, subject="Your application", body="Sorry…")
    assert response.status_code == 202
    response = post(
        api_as(recruiter), person, subject="Your application", body="x", category="rejection"
    )
    assert response.status_code == 202
    assert Message.objects.get(pk=response.json()["id"]).category == "rejection"


def test_too_long(api_as, recruiter, alex, number):
    api = api_as(recruiter)
    assert post(api, alex, subject="s" * 201, body="x").json()["code"] == "message_too_long"
    assert post(api, alex, subject="s" * 301, body="x").status_code == 400  # the API's own cap
    assert post(api, alex, subject="s", body="b" * 20_001).status_code == 400
    assert post(api, alex, subject="s" * 200, body="b" * 20_000).status_code == 202


def test_hostile_subject_is_one_line_and_body_kept_verbatim(api_as, recruiter, alex, number):
    response = post(
        api_as(recruiter),
        alex,
        subject="<script>x</script>\r\nBcc: evil@example.org",
        body="<img src=x onerror=alert(1)>\x00",
    )
    message = Message.objects.get(pk=response.json()["id"])
    assert message.email.subject == "<script>x</script> Bcc: evil@example.org"
    assert message.body == "<img src=x onerror=alert(1)>"


def test_unknown_channel_is_400(api_as, recruiter, alex, number):
    response = api_as(recruiter).post(
        "/messages", {"candidate_id": alex.pk, "channel": "fax", "body": "x"}
    )
    assert response.status_code == 400


def test_idempotency_key_returns_the_same_email(api_as, recruiter, alex, number):
    api = api_as(recruiter)
    first = post(api, alex, key="k-1", subject="Hi", body="Once")
    again = post(api, alex, key="k-1", subject="Hi", body="Once")
    assert first.json() == again.json()
    assert Message.objects.count() == 1 and EmailDetails.objects.count() == 1


def test_signals_follow_the_commit(
    recruiter, alex, number, send, django_capture_on_commit_callbacks
):
    got = []

    def sent(sender, message, **kwargs):
        got.append(("sent", message.status))

    def status(sender, message, **kwargs):
        got.append(("status", message.status))

    signals.message_sent.connect(sent, dispatch_uid="t-sent")
    signals.message_status_changed.connect(status, dispatch_uid="t-status")
    try:
        send(recruiter, alex)
    finally:
        signals.message_sent.disconnect(dispatch_uid="t-sent")
        signals.message_status_changed.disconnect(dispatch_uid="t-status")
    assert got == [("sent", "queued"), ("status", "sent")]


def test_locmem_outbox_has_the_email(mailoutbox, recruiter, alex, number, send):
    message = send(recruiter, alex, subject="Hello", body="Body")
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.subject == "Hello" and email.to == [ALEX_EMAIL]
    assert email.reply_to == [message.email.reply_to]
    message.refresh_from_db()
    assert message.status == "sent"
