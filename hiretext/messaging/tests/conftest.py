"""Messaging fixtures: a number the recruiter is on, textable people, immediate tasks.

Task execution: tests that need the worker use Django's ImmediateBackend (the `immediate`
fixture), which runs each task as it is enqueued, retries included (it cannot defer, so
the back-off is skipped); `django_capture_on_commit_callbacks(execute=True)` releases the
after-commit hand-off inside a test transaction.
"""

import hashlib
import hmac
import json
import threading

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from hiretext.ats import services as ats_services
from hiretext.ats.models import Candidate, Contact
from hiretext.carriers.simulator import phones
from hiretext.numbers.models import PhoneNumber, Seat, SeatAssignment

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
NUMBER = "+14155550100"
ALEX = "+14155550123"


@pytest.fixture
def immediate(settings):
    settings.TASKS = IMMEDIATE


def make_number(org, users, e164=NUMBER, position=1, allowance=250):
    seat = Seat.objects.create(organization=org, position=position)
    number = PhoneNumber.objects.create(
        organization=org,
        seat=seat,
        e164=e164,
        carrier="simulator",
        status=PhoneNumber.Status.ACTIVE,
        purchased_at=timezone.now(),
        monthly_allowance=allowance,
    )
    for slot, user in enumerate(users, start=1):
        SeatAssignment.objects.create(organization=org, seat=seat, user=user, slot=slot)
    return number


@pytest.fixture
def number(org, recruiter):
    return make_number(org, [recruiter])


def make_candidate(org, actor, mobile=ALEX, consent=True, first="Alex", last="Rivera"):
    return ats_services.create_person(
        Candidate,
        org,
        actor,
        {"first_name": first, "last_name": last, "mobile": mobile},
        sms_consent=consent,
        consent_note="Agreed on the phone" if consent else "",
    )


@pytest.fixture
def alex(org, recruiter):
    return make_candidate(org, recruiter)


@pytest.fixture
def nora(org, recruiter):
    return ats_services.create_person(
        Contact,
        org,
        recruiter,
        {"first_name": "Nora", "last_name": "Quinn", "mobile": "+13125550111"},
        sms_consent=True,
        consent_note="Asked us to text",
    )


def signed_post(client, kind, payload, *, secret_ok=True, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    signature = (
        phones.sign(body) if secret_ok else hmac.new(b"wrong", body, hashlib.sha256).hexdigest()
    )
    return client.post(
        f"/webhooks/simulator/{kind}",
        data=body,
        content_type="application/json",
        headers={"X-Simulator-Signature": signature},
    )


def inbound(client, body, *, sender=ALEX, to=NUMBER, message_id="SIMin1"):
    return signed_post(
        client, "inbound", {"message_id": message_id, "from": sender, "to": to, "body": body}
    )


def parallel_api_posts(token, payloads, keys):
    """POST each payload to the send API from its own thread, client and database
    connection, released together by a barrier; (status, JSON body) for each."""
    count = len(payloads)
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def worker(i):
        try:
            barrier.wait(timeout=20)
            headers = {"Authorization": f"Bearer {token}"}
            if keys[i]:
                headers["Idempotency-Key"] = keys[i]
            response = Client().post(
                "/api/v1/messages",
                data=payloads[i],
                content_type="application/json",
                headers=headers,
            )
            results[i] = (response.status_code, response.json())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results
