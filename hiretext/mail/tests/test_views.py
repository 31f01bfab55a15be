"""The composer's channel toggle (modal), the Communications tab, escaping on pages."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hiretext.mail.models import EmailDetails
from hiretext.mail.tests.conftest import make_person, post_mailgun_mime, reply_mime
from hiretext.messaging import services as messaging_services
from hiretext.messaging.models import Conversation, Message
from hiretext.messaging.tests.conftest import inbound as sms_inbound

pytestmark = pytest.mark.django_db


def radio(html, value):
    match = re.search(rf'<input type="radio" name="channel" value="{value}"[^>]*>', html)
    assert match, f"no {value} radio"
    return match.group(0)


def test_modal_offers_both_channels_sms_first(client, recruiter, alex, number):
    client.force_login(recruiter)
    html = client.get(f"/messaging/sms/candidate/{alex.pk}/").content.decode()
    assert "checked" in radio(html, "sms") and "disabled" not in radio(html, "sms")
    assert "checked" not in radio(html, "email") and "disabled" not in radio(html, "email")
    # The subject is there for e-mail, hidden and disabled while SMS is chosen.
    assert re.search(r'data-channel-only="email" hidden>\s*<label for="sms-subject">', html)
    assert re.search(r'<input id="sms-subject" name="subject"[^>]* disabled>', html)


def test_modal_email_only_for_someone_not_textable(client, org, recruiter, number):
    person = make_person(org, recruiter, consent=False)
    client.force_login(recruiter)
    html = client.get(f"/messaging/sms/candidate/{person.pk}/").content.decode()
    assert "disabled" in radio(html, "sms") and "checked" in radio(html, "email")
    assert "No SMS: Alex Rivera has not agreed to receive text messages." in html
    assert re.search(r'<input id="sms-subject" name="subject"[^>]* required>', html)


def test_modal_sms_only_without_an_address(client, org, recruiter, number):
    person = make_person(org, recruiter, email="")
    client.force_login(recruiter)
    html = client.get(f"/messaging/sms/candidate/{person.pk}/").content.decode()
    assert "disabled" in radio(html, "email") and "checked" in radio(html, "sms")
    assert "No e-mail: Alex Rivera has no e-mail address on file." in html


def test_modal_neither_channel(client, org, recruiter, number):
    person = make_person(org, recruiter, email="", consent=False)
    client.force_login(recruiter)
    html = client.get(f"/messaging/sms/candidate/{person.pk}/").content.decode()
    assert 'name="channel"' not in html
    assert "has not agreed to receive text messages" in html and "no e-mail address" in html


def test_modal_sends_an_email_and_shows_it_escaped(client, recruiter, alex, number):
    client.force_login(recruiter)
    response = client.post(
        f"/messaging/sms/candidate/{alex.pk}/",
        {
            "channel": "email",
            "subject": "<script>alert('s')</script>",
            "body": "<img src=x onerror=alert(1)> see you",
            "idempotency_key": "m1",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "&lt;script&gt;alert(&#x27;s&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt; see you" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert Message.objects.get().channel == "email"
    assert "checked" in radio(html, "email")  # the composer stays on e-mail


def test_modal_refusals_keep_what_was_typed(client, recruiter, alex, number):
    client.force_login(recruiter)
    response = client.post(
        f"/messaging/sms/candidate/{alex.pk}/",
        {"channel": "email", "subject": "", "body": "Keep <me>", "idempotency_key": "m2"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Write a subject before sending an e-mail." in html
    assert "Keep &lt;me&gt;</textarea>" in html
    response = client.post(
        f"/messaging/sms/candidate/{alex.pk}/",
        {"channel": "email", "subject": "Hi", "body": " ", "idempotency_key": "m3"},
    )
    assert response.status_code == 422
    assert 'value="Hi"' in response.content.decode()
    assert not Message.objects.exists()


def test_modal_email_to_someone_without_address_is_refused(client, org, recruiter, number):
    person = make_person(org, recruiter, email="")
    client.force_login(recruiter)
    response = client.post(
        f"/messaging/sms/candidate/{person.pk}/",
        {"channel": "email", "subject": "Hi", "body": "Hi", "idempotency_key": "m4"},
    )
    assert response.status_code == 422
    assert "has no e-mail address on file" in response.content.decode()


# --- Communications ------------------------------------------------------------------------


@pytest.fixture
def history(client, recruiter, alex, number, send):
    """A text, an e-mail, a texted reply and an e-mailed reply, in that order."""
    messaging_services.send_message(recruiter, alex, "Text <b>one</b>")
    email = send(recruiter, alex, subject="Offer <details>", body="E-mail two")
    sms_inbound(client, "Reply three & more")
    mime = reply_mime(
        EmailDetails.objects.get(message=email).reply_to,
        text="Reply <script>four</script>\n\nOn Mon, Dana wrote:\n> E-mail two",
        attachments=[("cv <x>.pdf", b"%PDF", "application/pdf")],
    )
    post_mailgun_mime(client, mime)
    return email


def test_communications_tab_shows_everything_in_time_order(client, recruiter, alex, history):
    client.force_login(recruiter)
    response = client.get(f"/candidates/{alex.pk}/communications/")
    assert response.status_code == 200
    html = response.content.decode()
    positions = [
        html.index(text)
        for text in (
            "Text &lt;b&gt;one&lt;/b&gt;",
            "E-mail two",
            "Reply three &amp; more",
            "Reply &lt;script&gt;four&lt;/script&gt;",
        )
    ]
    assert positions == sorted(positions)
    assert "Offer &lt;details&gt;" in html and "<details>" not in html.split("Offer")[1][:30]
    assert "cv &lt;x&gt;.pdf" in html and "application/pdf" in html
    assert "<script>four" not in html
    assert html.count('class="channel-tag">SMS<') == 2
    assert html.count('class="channel-tag">E-mail<') == 2
    assert 'aria-current="page">Communications<' in html
    # The full e-mail (with its quote) is one click away.
    assert "Full e-mail" in html and "&gt; E-mail two" in html


def test_viewing_communications_reads_the_conversation(client, recruiter, alex, history):
    assert Conversation.objects.get().unread is True
    client.force_login(recruiter)
    client.get(f"/candidates/{alex.pk}/communications/")
    assert Conversation.objects.get().unread is False


def test_communications_thread_partial_polls(client, recruiter, alex, history):
    client.force_login(recruiter)
    response = client.get(f"/candidates/{alex.pk}/communications/thread/")
    assert response.status_code == 200
    assert "Reply &lt;script&gt;four" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_profile_links_to_communications(client, recruiter, alex, number):
    client.force_login(recruiter)
    html = client.get(f"/candidates/{alex.pk}/").content.decode()
    assert f'href="/candidates/{alex.pk}/communications/"' in html
    assert 'aria-current="page">Profile<' in html


def test_continue_from_the_communications_tab(client, recruiter, alex, number):
    client.force_login(recruiter)
    url = f"/candidates/{alex.pk}/communications/"
    response = client.post(
        url,
        {"channel": "email", "subject": "Next steps", "body": "Hello", "idempotency_key": "c1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Next steps" in response.content.decode()
    response = client.post(url, {"channel": "sms", "body": "Text too", "idempotency_key": "c2"})
    assert response.status_code == 302 and response["Location"] == url
    assert list(Message.objects.order_by("id").values_list("channel", flat=True)) == [
        "email",
        "sms",
    ]
    refused = client.post(url, {"channel": "email", "subject": "x", "body": ""})
    assert refused.status_code == 422
    assert "Write a message before sending." in refused.content.decode()


def test_contacts_have_communications_too(client, recruiter, nora, number):
    client.force_login(recruiter)
    assert client.get(f"/contacts/{nora.pk}/communications/").status_code == 200


def test_communications_permissions_and_other_orgs(client, manager, other_admin, alex, number):
    client.force_login(manager)
    assert client.get(f"/candidates/{alex.pk}/communications/").status_code == 403
    html = client.get(f"/candidates/{alex.pk}/").content.decode()
    assert "communications/" not in html  # no tab without the messaging permission
    client.force_login(other_admin)
    assert client.get(f"/candidates/{alex.pk}/communications/").status_code == 404
    assert client.get(f"/candidates/{alex.pk}/communications/thread/").status_code == 404
    assert client.post(f"/candidates/{alex.pk}/communications/", {"body": "x"}).status_code == 404
    client.logout()
    assert client.get(f"/candidates/{alex.pk}/communications/").status_code == 302


def test_a_user_off_the_number_sees_nothing_but_the_report_right_sees_all(
    client, make_user, admin, recruiter, alex, history
):
    other = make_user("recruiter2@acme.test")
    client.force_login(other)
    html = client.get(f"/candidates/{alex.pk}/communications/").content.decode()
    assert "E-mail two" not in html and "No texts or e-mails" in html
    client.force_login(admin)  # "View SMS activity report"
    assert "E-mail two" in client.get(f"/candidates/{alex.pk}/communications/").content.decode()


def test_communications_queries_do_not_grow_with_the_history(
    client, recruiter, alex, number, send, django_assert_max_num_queries
):
    def render():
        return client.get(f"/candidates/{alex.pk}/communications/thread/")

    def reply(email, i):
        to = EmailDetails.objects.get(message=email).reply_to
        post_mailgun_mime(client, reply_mime(to, text=f"Answer {i}\n\nOn Mon, Dana wrote:\n> x"))

    client.force_login(recruiter)
    reply(send(recruiter, alex, subject="One", body="1"), 0)
    with CaptureQueriesContext(connection) as few:
        render()
    baseline = len(few.captured_queries)  # read now: the next request clears the log
    for i in range(1, 5):
        reply(send(recruiter, alex, subject=f"More {i}", body="x"), i)
        messaging_services.send_message(recruiter, alex, f"Text {i}")
    with django_assert_max_num_queries(baseline):
        html = render().content.decode()
    assert html.count('class="bubble ') == 14 and html.count("Full e-mail") == 5
