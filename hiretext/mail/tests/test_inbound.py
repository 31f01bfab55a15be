"""Replies by e-mail through the providers' inbound webhooks (Mailgun, Postmark), as sent."""

import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hiretext.ats.models import ActivityEntry
from hiretext.mail.models import EmailDetails
from hiretext.mail.tests.conftest import (
    ALEX_EMAIL,
    details,
    inbound_emails,
    mailgun_fields,
    make_person,
    post_mailgun,
    post_mailgun_mime,
    post_mailgun_parsed,
    post_postmark,
    postmark_payload,
    reply_mime,
)
from hiretext.messaging.inbound import message_received
from hiretext.messaging.models import Conversation

pytestmark = pytest.mark.django_db

QUOTED_REPLY = """Yes, Tuesday at 10 works for me.

Thanks,
Alex

--
Alex Rivera
Welder, Oakland

On Mon, 3 Mar 2025 at 09:12, Acme Staffing <jobs@hiretext.test> wrote:
> Hi Alex, are you free?
>
> --
> Dana Li
"""


@pytest.fixture
def sent(send, recruiter, alex, number):
    """An e-mail from Dana to Alex; replies answer it."""
    return send(recruiter, alex)


@pytest.fixture
def received_signals():
    got = []

    def receiver(sender, message, **kwargs):
        got.append(message.pk)

    message_received.connect(receiver, dispatch_uid="test-mail-received")
    yield got
    message_received.disconnect(dispatch_uid="test-mail-received")


def reply_to(sent):
    return details(sent).reply_to


def test_mailgun_raw_mime_reply_joins_the_conversation(
    client, sent, alex, received_signals, django_capture_on_commit_callbacks
):
    mime = reply_mime(
        reply_to(sent), text=QUOTED_REPLY, in_reply_to=details(sent).message_id_header
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post_mailgun_mime(client, mime)
    assert response.status_code == 200
    message = inbound_emails().get()
    assert message.conversation_id == sent.conversation_id
    assert message.status == "received" and message.carrier == "email"
    # What is shown: the new text only; the full original is kept beside it.
    assert message.body == "Yes, Tuesday at 10 works for me.\n\nThanks,\nAlex"
    kept = details(message)
    assert "On Mon, 3 Mar 2025" in kept.full_text and "> Hi Alex" in kept.full_text
    assert kept.subject == "Re: Interview on Tuesday"
    assert kept.from_address == ALEX_EMAIL
    assert kept.provider == "mailgun" and kept.event_id
    assert kept.message_id_header == str(mime["Message-ID"])
    assert kept.in_reply_to == details(sent).message_id_header
    assert ["Subject", "Re: Interview on Tuesday"] in kept.headers
    conversation = Conversation.objects.get(pk=sent.conversation_id)
    assert conversation.unread is True
    entry = ActivityEntry.objects.filter(candidate=alex, kind=ActivityEntry.Kind.EMAIL_IN).get()
    assert entry.summary == f"E-mail from {ALEX_EMAIL}: Re: Interview on Tuesday"
    assert entry.ref_id == message.pk
    assert received_signals == [message.pk]  # the bell, events and reply e-mails follow


def test_mailgun_parsed_form_with_attachments_lists_them(client, sent):
    mime = reply_mime(reply_to(sent), text="My CV is attached.")
    files = [
        SimpleUploadedFile("cv.pdf", b"%PDF-1.4 " + b"x" * 3_000_000, "application/pdf"),
        SimpleUploadedFile("photo <1>.png", b"\x89PNG" + b"y" * 10, "image/png"),
    ]
    response = post_mailgun_parsed(client, mime, files)
    assert response.status_code == 200
    message = inbound_emails().get()
    assert message.body == "My CV is attached."
    assert details(message).attachments == [
        {"name": "cv.pdf", "size": 3_000_009, "type": "application/pdf"},
        {"name": "photo <1>.png", "size": 14, "type": "image/png"},
    ]


@pytest.mark.parametrize("raw", [True, False], ids=["raw-email", "parsed-fields"])
def test_postmark_reply_is_stored(client, sent, raw):
    mime = reply_mime(
        reply_to(sent),
        text="Sounds good!\n\nSent from my iPhone",
        attachments=[("notes.txt", b"hello", "text/plain")],
    )
    response = post_postmark(client, postmark_payload(mime, raw=raw))
    assert response.status_code == 200
    message = inbound_emails().get()
    assert message.conversation_id == sent.conversation_id
    assert message.body == "Sounds good!"
    kept = details(message)
    assert kept.provider == "postmark"
    assert kept.attachments == [{"name": "notes.txt", "size": 5, "type": "text/plain"}]


def test_retries_and_the_same_email_through_two_providers_are_stored_once(client, sent):
    mime = reply_mime(reply_to(sent))
    assert post_mailgun_mime(client, mime, token="t" * 50).status_code == 200
    assert post_mailgun_mime(client, mime, token="t" * 50).status_code == 200
    assert post_mailgun_mime(client, mime).status_code == 200
    assert post_postmark(client, postmark_payload(mime)).status_code == 200
    assert inbound_emails().count() == 1


def test_matched_by_in_reply_to_when_sent_to_another_address(client, sent):
    """The candidate answered the From address, not Reply-To: the headers still match."""
    mime = reply_mime("jobs@hiretext.test", in_reply_to=details(sent).message_id_header)
    assert post_mailgun_mime(client, mime).status_code == 200
    assert inbound_emails().get().conversation_id == sent.conversation_id


def test_matched_by_references_when_in_reply_to_is_unknown(client, sent):
    mime = reply_mime("jobs@hiretext.test")
    mime["In-Reply-To"] = "<unknown@elsewhere.example>"
    mime["References"] = f"{details(sent).message_id_header} <unknown@elsewhere.example>"
    assert post_mailgun_mime(client, mime).status_code == 200
    assert inbound_emails().get().conversation_id == sent.conversation_id


def test_html_only_reply_shows_text_without_the_quote(client, sent):
    mime = reply_mime(reply_to(sent), text="")
    mime.clear_content()
    mime.set_content(
        "<div>Works for me &amp; thanks <b>a lot</b></div><script>alert(1)</script>"
        '<div class="gmail_quote"><div>On Mon, Dana wrote:</div>'
        "<blockquote>Hi Alex, are you free?</blockquote></div>",
        subtype="html",
    )
    assert post_mailgun_mime(client, mime).status_code == 200
    message = inbound_emails().get()
    assert message.body == "Works for me & thanks a lot"
    assert "<script>" in details(message).html  # kept as received, never rendered


# --- refused: signature, credentials, configuration ----------------------------------------


def test_mailgun_wrong_signature_is_403(client, sent):
    response = post_mailgun_mime(client, reply_mime(reply_to(sent)), key="not-the-key")
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    assert not inbound_emails().exists()


def test_mailgun_without_signature_fields_is_403(client, sent):
    mime = reply_mime(reply_to(sent))
    response = post_mailgun(client, {"body-mime": mime.as_string(), "timestamp": "1"})
    assert response.status_code == 403
    assert not inbound_emails().exists()


def test_mailgun_without_the_url_credentials_is_403(client, sent):
    """With ANYMAIL_WEBHOOK_SECRET set, every provider's URL carries it (anymail's rule)."""
    fields = {"body-mime": reply_mime(reply_to(sent)).as_string()}
    fields.update(mailgun_fields(reply_to(sent)))
    assert post_mailgun(client, fields, auth=None).status_code == 403
    assert post_mailgun(client, fields, auth=("postmark", "nope")).status_code == 403
    assert not inbound_emails().exists()


def test_mailgun_with_only_its_signing_key(client, settings, sent):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": "mailgun-signing-key-for-tests"}
    fields = {"body-mime": reply_mime(reply_to(sent)).as_string()}
    fields.update(mailgun_fields(reply_to(sent)))
    assert post_mailgun(client, fields, auth=None).status_code == 200
    assert inbound_emails().count() == 1


@pytest.mark.parametrize("auth", [None, ("postmark", "wrong"), ("intruder", "webhook-s3cret")])
def test_postmark_without_the_right_basic_auth_is_403(client, sent, auth):
    response = post_postmark(client, postmark_payload(reply_mime(reply_to(sent))), auth=auth)
    assert response.status_code == 403
    assert not inbound_emails().exists()


def test_unconfigured_and_unknown_providers_are_404(client, settings, sent):
    settings.ANYMAIL = {}
    mime = reply_mime(reply_to(sent))
    assert post_mailgun_mime(client, mime).status_code == 404
    assert post_postmark(client, postmark_payload(mime)).status_code == 404
    assert client.post("/webhooks/email/sendgrid/inbound", {}).status_code == 404
    assert client.get("/webhooks/email/mailgun/inbound").status_code == 405
    assert not inbound_emails().exists()


# --- rejected safely: forged, unknown, unmatched -------------------------------------------


def test_forged_reply_token_is_logged_and_not_stored(client, sent, caplog):
    real = reply_to(sent)
    local, domain = real.split("@")
    conversation_id = local.removeprefix("reply+").split(".")[0]
    for forged in (
        f"reply+{conversation_id}.{'0' * 32}@{domain}",
        f"reply+{int(conversation_id) + 1}.{local.split('.')[1]}@{domain}",
        f"reply+{conversation_id}@{domain}",
    ):
        mime = reply_mime(forged, in_reply_to=details(sent).message_id_header)
        with caplog.at_level(logging.WARNING, logger="hiretext.mail.services"):
            assert post_mailgun_mime(client, mime).status_code == 200
        assert "forged_reply_address" in caplog.text
    assert not inbound_emails().exists()


def test_unknown_sender_is_logged_and_not_stored(client, sent, caplog):
    mime = reply_mime(reply_to(sent), sender="someone.else@example.org")
    with caplog.at_level(logging.WARNING, logger="hiretext.mail.services"):
        assert post_postmark(client, postmark_payload(mime)).status_code == 200
    assert "unknown_sender" in caplog.text
    assert not inbound_emails().exists()


def test_another_persons_valid_address_cannot_be_used(client, org, recruiter, sent, number):
    """Sam got their own reply address; Sam writing to Alex's conversation is refused."""
    make_person(org, recruiter, email="sam@example.com", mobile="+14155550124", first_name="Sam")
    mime = reply_mime(reply_to(sent), sender="sam@example.com")
    assert post_mailgun_mime(client, mime).status_code == 200
    assert not inbound_emails().exists()


def test_unmatched_email_is_logged_and_not_stored(client, sent, caplog):
    mime = reply_mime("jobs@hiretext.test")
    with caplog.at_level(logging.WARNING, logger="hiretext.mail.services"):
        assert post_mailgun_mime(client, mime).status_code == 200
    assert "no_matching_conversation" in caplog.text
    assert not inbound_emails().exists()


# --- malformed and oversized ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [("not json", 400), ("[1, 2]", 400), ('"text"', 400), ('{"RawEmail": 5}', 400), ("{}", 200)],
)
def test_postmark_malformed_json(client, sent, body, status):
    """Not an e-mail: 400; an empty one is read, matches nothing and is dropped (200)."""
    response = post_postmark(client, None, raw_body=body)
    assert response.status_code == status
    assert not inbound_emails().exists()


def test_mailgun_without_any_message_is_400(client, sent):
    response = post_mailgun(client, mailgun_fields(reply_to(sent)))
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"


@pytest.mark.parametrize(
    "raw",
    [
        "this is not an e-mail at all",
        "\x00\x01\x02garbage\r\n\r\n\xff\xfe",
        "From: <<<>>>\r\nTo: ,,,@@@\r\nSubject: =?utf-8?q?broken\r\n\r\nbody",
        "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nno end",
        "Content-Type: multipart/mixed\r\n\r\nno boundary at all",
    ],
)
def test_malformed_mime_is_rejected_without_error(client, sent, raw, caplog):
    """Even to a valid reply address: no readable sender, nothing stored."""
    fields = {"body-mime": raw}
    fields.update(mailgun_fields(reply_to(sent)))
    with caplog.at_level(logging.WARNING, logger="hiretext.mail.services"):
        response = post_mailgun(client, fields)
    assert response.status_code == 200
    assert "unknown_sender" in caplog.text
    assert not inbound_emails().exists()


def test_broken_parts_still_store_what_can_be_read(client, sent):
    raw = (
        f"From: Alex Rivera <{ALEX_EMAIL}>\r\nTo: {reply_to(sent)}\r\n"
        "Subject: =?x-unknown?q?odd?=\r\nMessage-ID: <broken-1@example.com>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nHell\xe9 there\r\n"
        "--b\r\nContent-Type: application/pdf; name=cv.pdf\r\n"
        "Content-Disposition: attachment; filename=cv.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--b--\r\n"
    )
    fields = {"body-mime": raw, **mailgun_fields(reply_to(sent))}
    assert post_mailgun(client, fields).status_code == 200
    message = inbound_emails().get()
    assert message.body.startswith("Hell") and message.body.endswith("there")
    assert details(message).attachments[0]["name"] == "cv.pdf"


def test_deeply_nested_mime_does_not_fail(client, sent):
    depth = 3000
    head = "".join(
        f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n" for i in range(depth)
    )
    raw = f"From: {ALEX_EMAIL}\r\nTo: {reply_to(sent)}\r\nSubject: deep\r\n{head}text\r\n"
    fields = {"body-mime": raw, **mailgun_fields(reply_to(sent))}
    response = post_mailgun(client, fields)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"
    assert not inbound_emails().exists()


def test_huge_attachment_through_postmark_keeps_only_its_size(client, sent):
    big = b"\x00" * 4_000_000  # beyond the 1 MB every other endpoint accepts
    mime = reply_mime(reply_to(sent), text="Portfolio attached", attachments=[
        ("portfolio.zip", big, "application/zip")
    ])  # fmt: skip
    response = post_postmark(client, postmark_payload(mime, raw=False))
    assert response.status_code == 200
    kept = details(inbound_emails().get())
    assert kept.attachments == [
        {"name": "portfolio.zip", "size": 4_000_000, "type": "application/zip"}
    ]
    assert len(json.dumps(EmailDetails.objects.values().get(pk=kept.pk), default=str)) < 20_000


def test_beyond_the_inbound_limit_is_413(client, settings, sent):
    settings.HIRETEXT_INBOUND_EMAIL_MAX_BYTES = 500_000
    mime = reply_mime(reply_to(sent), attachments=[("big.bin", b"1" * 600_000, "application/zip")])
    assert post_postmark(client, postmark_payload(mime)).status_code == 413
    assert not inbound_emails().exists()


def test_mailgun_raw_mime_beyond_the_form_field_limit_is_413(client, sent):
    mime = reply_mime(reply_to(sent), attachments=[("a.bin", b"1" * 1_200_000, "application/zip")])
    assert post_mailgun_mime(client, mime).status_code == 413
    assert not inbound_emails().exists()


def test_oversized_text_is_cut_and_flagged(client, sent):
    text = "Long reply. " * 30_000  # 360,000 characters
    response = post_postmark(client, postmark_payload(reply_mime(reply_to(sent), text=text)))
    assert response.status_code == 200
    message = inbound_emails().get()
    kept = details(message)
    assert len(message.body) == 20_000
    assert len(kept.full_text) == 100_000
    assert kept.truncated is True
    entry = ActivityEntry.objects.get(kind=ActivityEntry.Kind.EMAIL_IN)
    assert len(entry.body) <= 20_000


def test_many_attachments_and_headers_are_capped(client, sent):
    mime = reply_mime(
        reply_to(sent),
        attachments=[(f"f{i}.txt", b"x", "text/plain") for i in range(80)],
    )
    for i in range(150):
        mime[f"X-Noise-{i}"] = "n" * 50
    mime["X-Long"] = "L" * 10_000
    assert post_postmark(client, postmark_payload(mime)).status_code == 200
    kept = details(inbound_emails().get())
    assert len(kept.attachments) == 50
    assert len(kept.headers) == 100
