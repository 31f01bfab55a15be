"""The simulator's phones and API: receive, reply (signed, in-process), replay, fail."""

import pytest

from hiretext.carriers.simulator import phones
from hiretext.messaging import services
from hiretext.messaging.models import Message
from hiretext.messaging.tests.conftest import ALEX, NUMBER

pytestmark = pytest.mark.django_db


def post(client, path, payload):
    return client.post(f"/simulator/api/{path}", data=payload, content_type="application/json")


def test_phone_receives_and_replies_through_the_signed_webhook(
    client, recruiter, alex, number, immediate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.send_message(recruiter, alex, "Are you free at 10?")
    items = client.get(f"/simulator/api/messages?phone={ALEX}").json()["items"]
    assert [(m["from"], m["to"], m["body"], m["status"]) for m in items] == [
        (NUMBER, ALEX, "Are you free at 10?", "delivered")
    ]
    page = client.get(f"/simulator/phones/{ALEX}").content.decode()
    assert "Are you free at 10?" in page and f'value="{NUMBER}"' in page
    response = client.post(f"/simulator/phones/{ALEX}/reply", {"to": NUMBER, "body": "Yes!"})
    assert response.status_code == 302
    reply = Message.objects.get(direction="in")
    assert (reply.body, reply.conversation.candidate) == ("Yes!", alex)


def test_api_inbound_and_replay_by_message_id(client, alex, number):
    first = post(
        client, "inbound", {"from": ALEX, "to": NUMBER, "body": "hello", "message_id": "M1"}
    )
    assert first.status_code == 202
    assert first.json() == {"message_id": "M1", "webhook_status": 200}
    again = post(
        client, "inbound", {"from": ALEX, "to": NUMBER, "body": "hello", "message_id": "M1"}
    )
    assert again.status_code == 202
    assert Message.objects.count() == 1
    fresh = post(client, "inbound", {"from": ALEX, "to": NUMBER, "body": "second"})
    assert fresh.json()["message_id"].startswith("SIM")
    assert Message.objects.count() == 2


@pytest.mark.parametrize(
    "payload",
    [
        {"to": NUMBER, "body": "x"},
        {"from": "12345", "to": NUMBER, "body": "x"},
        {"from": ALEX, "to": NUMBER, "body": 5},
        {"from": ALEX, "to": NUMBER, "body": "x" * 10_001},
        {"from": ALEX, "to": NUMBER, "body": "x", "message_id": "m" * 65},
    ],
)
def test_api_inbound_refuses_bad_input(client, number, payload):
    assert post(client, "inbound", payload).status_code == 400
    assert not Message.objects.exists()


def test_api_inbound_to_a_number_nobody_holds(client, number):
    response = post(client, "inbound", {"from": ALEX, "to": "+14155550199", "body": "x"})
    assert response.status_code == 422


def test_api_messages_needs_a_phone(client):
    assert client.get("/simulator/api/messages?phone=nope").status_code == 400
    assert client.get("/simulator/phones/nope").status_code == 404


def test_phone_set_to_fail_and_reset(client):
    response = post(client, f"phones/{ALEX}/fail", {"status": "undelivered", "error_code": "30006"})
    assert response.json() == {"phone": ALEX, "status": "undelivered", "error_code": "30006"}
    assert post(client, f"phones/{ALEX}/fail", {"status": "exploded"}).status_code == 400
    assert post(client, f"phones/{ALEX}/fail", {"status": "ok"}).status_code == 200
    assert client.delete(f"/simulator/api/phones/{ALEX}/fail").status_code == 200


def test_turned_off(client, settings):
    settings.HIRETEXT_SIMULATOR_ENABLED = False
    assert client.get(f"/simulator/phones/{ALEX}").status_code == 404


def test_signature_is_hmac_sha256_hex_of_the_raw_body(settings):
    import hashlib
    import hmac

    settings.HIRETEXT_SIMULATOR_SECRET = "s3cret"
    expected = hmac.new(b"s3cret", b'{"a":1}', hashlib.sha256).hexdigest()
    assert phones.sign(b'{"a":1}') == expected
