"""The SMS icon on the pages, the modal and its composer, the profile's history."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hiretext.ats.models import Application, JobPosting
from hiretext.messaging import services
from hiretext.messaging.models import Message
from hiretext.messaging.tests.conftest import inbound, make_candidate
from tests.factories import CandidateFactory

pytestmark = pytest.mark.django_db

ICON = re.compile(
    r'aria-label="Send an SMS message"[^>]*data-sms-state="(\w+)"'
    r'[^>]*data-sms-person="candidate-(\d+)"'
)


def icons(html):
    return {int(pk): state for state, pk in ICON.findall(html)}


def test_pool_shows_blue_then_green_and_hides_the_untextable(client, org, recruiter, alex, number):
    silent = make_candidate(org, recruiter, mobile="+14155550124", consent=False, first="Sam")
    client.force_login(recruiter)
    html = client.get("/candidates/").content.decode()
    assert icons(html) == {alex.pk: "new"}
    assert silent.pk not in icons(html)
    services.send_message(recruiter, alex, "Hello")
    assert icons(client.get("/candidates/").content.decode()) == {alex.pk: "active"}


def test_icon_hidden_without_permission(client, manager, alex, number):
    client.force_login(manager)
    assert icons(client.get("/candidates/").content.decode()) == {}


def test_icon_states_cost_one_query_per_page(client, org, recruiter, number):
    people = [
        CandidateFactory(organization=org, mobile=f"+1415555{200 + i:04d}") for i in range(30)
    ]
    for person in people[:3]:
        services.send_message(recruiter, person, "Hi")
    client.force_login(recruiter)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            html = client.get("/candidates/").content.decode()
        return len([q for q in ctx.captured_queries if "messaging_conversation" in q["sql"]]), html

    queries, html = count()
    assert queries == 1
    states = icons(html)
    assert sum(s == "active" for s in states.values()) == 3 and len(states) >= 25


def test_job_posting_page_has_the_icon(client, org, recruiter, alex, number):
    job = JobPosting.objects.create(organization=org, title="Welder")
    Application.objects.create(organization=org, candidate=alex, job=job)
    client.force_login(recruiter)
    assert icons(client.get(f"/jobs/{job.pk}/").content.decode()) == {alex.pk: "new"}


def test_profile_icon_and_history(client, recruiter, alex, number):
    services.send_message(recruiter, alex, "Interview <b>Tuesday</b>?")
    inbound(client, "Sure & thanks")
    client.force_login(recruiter)
    html = client.get(f"/candidates/{alex.pk}/").content.decode()
    assert icons(html) == {alex.pk: "active"}
    assert "SMS Message History" in html
    assert "Interview &lt;b&gt;Tuesday&lt;/b&gt;?" in html
    assert "Sure &amp; thanks" in html


def test_contacts_can_be_texted(client, recruiter, nora, number):
    client.force_login(recruiter)
    html = client.get("/contacts/").content.decode()
    assert f'data-sms-person="contact-{nora.pk}"' in html
    response = client.post(
        f"/messaging/sms/contact/{nora.pk}/", {"body": "Hi Nora", "idempotency_key": "x1"}
    )
    assert response.status_code == 200
    assert Message.objects.get().conversation.contact == nora


def test_modal_sends_and_shows_the_message(client, recruiter, alex, number):
    client.force_login(recruiter)
    modal = client.get(f"/messaging/sms/candidate/{alex.pk}/").content.decode()
    assert "<dialog" in modal and 'data-sms-state="new"' in modal
    assert 'data-segment-counter="sms-counter"' in modal
    response = client.post(
        f"/messaging/sms/candidate/{alex.pk}/", {"body": "<i>Hi</i> Alex", "idempotency_key": "k"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;i&gt;Hi&lt;/i&gt; Alex" in html and "<i>Hi</i>" not in html
    assert 'data-sms-state="active"' in html
    # The same form submitted twice (double click) sends once.
    client.post(
        f"/messaging/sms/candidate/{alex.pk}/", {"body": "<i>Hi</i> Alex", "idempotency_key": "k"}
    )
    assert Message.objects.count() == 1


def test_modal_shows_refusals(client, org, recruiter, alex, number):
    client.force_login(recruiter)
    response = client.post(f"/messaging/sms/candidate/{alex.pk}/", {"body": "  "})
    assert response.status_code == 422
    assert "Write a message before sending." in response.content.decode()
    assert not Message.objects.exists()


def test_modal_for_another_org_is_404(client, other_admin, alex, number):
    client.force_login(other_admin)
    assert client.get(f"/messaging/sms/candidate/{alex.pk}/").status_code == 404
    assert client.get(f"/messaging/sms/robot/{alex.pk}/").status_code == 404


def test_modal_needs_recruitment_sms(client, manager, alex, number):
    client.force_login(manager)
    assert client.get(f"/messaging/sms/candidate/{alex.pk}/").status_code == 403
    assert client.post(f"/messaging/sms/candidate/{alex.pk}/", {"body": "x"}).status_code == 403
    assert not Message.objects.exists()


def test_thread_is_only_for_users_on_the_number(client, make_user, recruiter, alex, number):
    services.send_message(recruiter, alex, "Hello")
    conversation = Message.objects.get().conversation
    client.force_login(recruiter)
    assert client.get(f"/messaging/conversations/{conversation.pk}/thread/").status_code == 200
    other = make_user("recruiter2@acme.test")
    client.force_login(other)
    assert client.get(f"/messaging/conversations/{conversation.pk}/thread/").status_code == 404


def test_api_conversations_and_messages_keyset(api_as, client, recruiter, make_user, alex, number):
    for i in range(5):
        services.send_message(recruiter, alex, f"m{i}")
    api = api_as(recruiter)
    [conversation] = api.get("/conversations").json()["items"]
    assert conversation["person"]["id"] == alex.pk and conversation["seat_id"] == number.seat_id
    page = api.get(f"/conversations/{conversation['id']}/messages?limit=2").json()
    assert [m["body"] for m in page["items"]] == ["m4", "m3"]
    page2 = api.get(
        f"/conversations/{conversation['id']}/messages?limit=2&cursor={page['next_cursor']}"
    ).json()
    assert [m["body"] for m in page2["items"]] == ["m2", "m1"]
    assert api.get("/conversations?cursor=garbage").status_code == 400
    outsider = api_as(make_user("recruiter2@acme.test"))
    assert outsider.get(f"/conversations/{conversation['id']}/messages").status_code == 404
    assert outsider.get("/conversations").json()["items"] == []
    message_id = page["items"][0]["id"]
    assert outsider.get(f"/messages/{message_id}").status_code == 404
    inbound(client, "reply")
    assert api.get("/conversations?unread=true").json()["items"][0]["unread"] is True


def test_opening_the_modal_reads_the_conversation_for_everyone(client, recruiter, alex, number):
    inbound(client, "Are you there?")
    assert Message.objects.get().conversation.unread
    client.force_login(recruiter)
    client.get(f"/messaging/sms/candidate/{alex.pk}/")
    assert not Message.objects.get().conversation.unread


def test_modal_refuses_an_oversized_message(client, recruiter, alex, number):
    client.force_login(recruiter)
    response = client.post(f"/messaging/sms/candidate/{alex.pk}/", {"body": "x" * 100_000})
    assert response.status_code == 422
    assert "too long" in response.content.decode()
    assert not Message.objects.exists()


def test_api_message_of_another_organisation_is_404(api_as, recruiter, other_admin, alex, number):
    accepted = services.send_message(recruiter, alex, "Hello")
    response = api_as(other_admin).get(f"/messages/{accepted.message.pk}")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert api_as(recruiter).get(f"/messages/{accepted.message.pk}").json()["body"] == "Hello"
