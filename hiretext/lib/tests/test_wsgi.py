"""The two middleware stacks of `config.wsgi`: which requests take the machine one, and that
they work there, through the real WSGI application as well as through the test client."""

import json

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory

from hiretext.lib.wsgi import is_machine_request
from hiretext.messaging.models import Message
from hiretext.messaging.tests.conftest import ALEX, NUMBER, inbound, make_candidate, make_number

SESSION = "sessionid"


@pytest.fixture
def number(org, recruiter):
    return make_number(org, [recruiter])


@pytest.fixture
def alex(org, recruiter):
    return make_candidate(org, recruiter)


@pytest.mark.parametrize(
    ("path", "headers", "machine"),
    [
        ("/webhooks/simulator/inbound", {}, True),
        ("/webhooks/email/mailgun/inbound", {"HTTP_COOKIE": f"{SESSION}=abc"}, True),
        ("/api/v1/messages", {"HTTP_AUTHORIZATION": "Bearer abc"}, True),
        ("/api/v1/messages", {"HTTP_AUTHORIZATION": "bearer abc"}, True),
        ("/api/v1/messages", {"HTTP_AUTHORIZATION": "Bearer " + "x" * 10_000}, True),
        ("/api/v1/messages", {}, False),
        ("/api/v1/messages", {"HTTP_AUTHORIZATION": "Basic YTpi"}, False),
        ("/api/v1/messages", {"HTTP_AUTHORIZATION": "Bearer"}, False),
        ("/api/v1/messages", {"HTTP_AUTHORIZATION": "Bearerabc"}, False),
        (
            "/api/v1/messages",
            {"HTTP_AUTHORIZATION": "Bearer abc", "HTTP_COOKIE": f"csrftoken=1; {SESSION}=abc"},
            False,
        ),
        (
            "/api/v1/messages",
            {"HTTP_AUTHORIZATION": "Bearer abc", "HTTP_COOKIE": "csrftoken=1"},
            True,
        ),
        ("/webhooks", {}, False),
        ("/apiary/", {"HTTP_AUTHORIZATION": "Bearer abc"}, False),
        ("/inbox/", {"HTTP_AUTHORIZATION": "Bearer abc"}, False),
        ("/", {}, False),
        ("", {}, False),
    ],
)
def test_which_requests_take_the_machine_stack(path, headers, machine):
    assert is_machine_request({"PATH_INFO": path, **headers}) is machine


# --- through the test client (as every webhook and API test goes) ---------------------------


def test_webhooks_and_token_calls_take_the_machine_stack(client, api_as, recruiter, alex, number):
    assert inbound(client, "Hello there").status_code == 200
    assert api_as(recruiter).get("/candidates").status_code == 200
    assert client.get("/login/").status_code == 200
    assert client.handler.handled == ["machine", "machine", "browser"]


def test_a_session_cookie_keeps_the_browser_stack(client, recruiter):
    from hiretext.accounts.models import ApiToken

    client.force_login(recruiter)
    _, raw = ApiToken.issue(recruiter)
    resp = client.get("/api/v1/candidates", headers={"Authorization": f"Bearer {raw}"})
    assert resp.status_code == 200
    resp = client.get("/api/v1/candidates")  # the session alone
    assert resp.status_code == 200
    assert client.handler.handled == ["browser", "browser"]


# --- through the real WSGI application ------------------------------------------------------


@pytest.fixture
def wsgi(db):
    """Call `config.wsgi.application` as a server would: (status, headers, body).

    Like Django's test client, the request signals do not close the test's connection
    (that would end the transaction the test runs in)."""
    from config.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    factory = RequestFactory()

    def call(method, path, body=b"", content_type="application/json", **headers):
        request = getattr(factory, method)(
            path, data=body, content_type=content_type, headers=headers
        )
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            answer["status"] = int(status.split()[0])
            answer["headers"] = dict(response_headers)

        chunks = application(request.environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return answer["status"], answer["headers"], content

    yield call
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _signed(payload):
    from hiretext.carriers.simulator import phones

    body = json.dumps(payload).encode()
    return body, {"X-Simulator-Signature": phones.sign(body)}


def test_a_signed_webhook_is_stored_through_the_application(wsgi, alex, number):
    body, headers = _signed({"message_id": "W1", "from": ALEX, "to": NUMBER, "body": "<b>hi</b>"})
    status, response_headers, content = wsgi("post", "/webhooks/simulator/inbound", body, **headers)
    assert status == 200
    assert json.loads(content) == {"received": 1, "stored": 1}
    assert Message.objects.get(external_id="W1").body == "<b>hi</b>"
    # The machine stack keeps the security headers and sets no cookie.
    assert response_headers["X-Content-Type-Options"] == "nosniff"
    assert response_headers["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in response_headers
    # Delivered again: still one message.
    assert wsgi("post", "/webhooks/simulator/inbound", body, **headers)[0] == 200
    assert Message.objects.filter(external_id="W1").count() == 1


@pytest.mark.parametrize(
    ("path", "body", "signed", "status", "code"),
    [
        (
            "/webhooks/simulator/inbound",
            {"message_id": "W2", "to": NUMBER},
            False,
            403,
            "invalid_signature",
        ),
        ("/webhooks/simulator/inbound", {"message_id": "W2"}, True, 400, "malformed"),
        ("/webhooks/nowhere/inbound", {"message_id": "W2"}, True, 404, "not_found"),
    ],
)
def test_bad_webhooks_are_refused_through_the_application(
    wsgi, alex, number, path, body, signed, status, code
):
    raw, headers = _signed(body)
    if not signed:
        headers = {"X-Simulator-Signature": "0" * 64}
    answer, _, content = wsgi("post", path, raw, **headers)
    assert answer == status
    assert json.loads(content)["code"] == code
    assert not Message.objects.filter(external_id="W2").exists()


def test_a_host_not_allowed_is_400_on_the_machine_stack_too(wsgi, alex, number):
    body, headers = _signed({"message_id": "W4", "from": ALEX, "to": NUMBER, "body": "hi"})
    status, _, _ = wsgi("post", "/webhooks/simulator/inbound", body, Host="evil.example", **headers)
    assert status == 400
    assert not Message.objects.filter(external_id="W4").exists()


def test_a_wrong_method_on_a_webhook_is_405(wsgi):
    assert wsgi("get", "/webhooks/simulator/inbound")[0] == 405


def test_an_oversized_webhook_is_413_and_stores_nothing(wsgi, settings, alex, number):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    raw, headers = _signed({"message_id": "W3", "from": ALEX, "to": NUMBER, "body": "x" * 5000})
    status, _, content = wsgi("post", "/webhooks/simulator/inbound", raw, **headers)
    assert status == 413
    assert json.loads(content)["code"] == "request_too_large"
    assert not Message.objects.filter(external_id="W3").exists()


def test_token_api_calls_work_through_the_application(wsgi, recruiter, alex):
    from hiretext.accounts.models import ApiToken

    _, raw = ApiToken.issue(recruiter)
    status, headers, content = wsgi("get", "/api/v1/candidates", Authorization=f"Bearer {raw}")
    assert status == 200
    assert [c["mobile"] for c in json.loads(content)["items"]] == [ALEX]
    assert "Set-Cookie" not in headers

    status, headers, content = wsgi("get", "/api/v1/candidates", Authorization="Bearer wrong")
    assert status == 401
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["WWW-Authenticate"].startswith("Bearer")

    status, headers, content = wsgi("get", "/api/v1/no-such-route", Authorization=f"Bearer {raw}")
    assert status == 404
    assert json.loads(content)["code"] == "not_found"


def test_pages_keep_the_browser_stack_through_the_application(wsgi):
    status, headers, _ = wsgi("get", "/login/")
    assert status == 200
    assert "csrftoken=" in headers.get("Set-Cookie", "")  # CSRF middleware ran
    status, headers, _ = wsgi("get", "/")
    assert status == 302
    assert headers["Location"].startswith("/login/")


def test_an_unknown_webhook_path_is_the_plain_404_page(wsgi, client):
    """No session or user on the machine stack: the 404 page still renders (signed out)."""
    status, headers, content = wsgi("get", "/webhooks/no/such/path")
    assert status == 404
    assert b"Page not found" in content
    assert "sessionid" not in headers.get("Set-Cookie", "")
    assert client.get("/webhooks/no/such/path").status_code == 404
    assert client.handler.handled == ["machine"]


# --- paths resolved once ----------------------------------------------------------------------


@pytest.fixture
def resolutions(monkeypatch):
    """The paths a handler had Django resolve for a request."""
    from django.core.handlers.base import BaseHandler

    asked = []
    real = BaseHandler.resolve_request

    def counting(self, request):
        asked.append(request.path_info)
        return real(self, request)

    monkeypatch.setattr(BaseHandler, "resolve_request", counting)
    return asked


def test_a_machine_path_is_resolved_once(client, api_as, recruiter, alex, number, resolutions):
    from hiretext.messaging.services import send_message

    api = api_as(recruiter)
    first = send_message(recruiter, alex, "one").message
    second = send_message(recruiter, alex, "two").message
    bodies = [api.get(f"/messages/{m.pk}").json()["body"] for m in (first, second, first)]
    assert bodies == ["one", "two", "one"]  # each path its own view arguments
    for _ in range(3):
        assert inbound(client, "Hello").status_code == 200
    assert resolutions == [
        f"/api/v1/messages/{first.pk}",
        f"/api/v1/messages/{second.pk}",
        "/webhooks/simulator/inbound",
    ]
    assert client.get("/login/").status_code == 200
    assert client.get("/login/").status_code == 200  # the browser stack resolves each time
    assert resolutions[3:] == ["/login/", "/login/"]


def test_a_path_that_matches_nothing_is_never_kept(client, resolutions):
    for _ in range(2):
        assert client.post("/webhooks/no/such/path").status_code == 404
    assert resolutions.count("/webhooks/no/such/path") == 2
    assert client.handler.machine._resolved == {}


def test_the_kept_paths_are_bounded(client, monkeypatch, resolutions):
    from hiretext.lib import wsgi

    monkeypatch.setattr(wsgi, "RESOLVED_KEPT", 3)
    paths = [f"/webhooks/carrier{k}/inbound" for k in range(7)]
    for path in [*paths, paths[-1]]:
        assert client.post(path).status_code == 404  # matched; no such carrier
    assert 0 < len(client.handler.machine._resolved) <= 3
    assert [path for path in resolutions if path in paths] == paths  # the last one kept


def test_another_urlconf_is_resolved_afresh(client, settings, resolutions):
    path = "/webhooks/nowhere/inbound"
    response = client.post(path)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")  # the view's
    settings.ROOT_URLCONF = "hiretext.lib.tests.urls_without_webhooks"
    assert client.post(path).status_code == 404  # nothing matches now: the 404 page
    assert b"Page not found" in client.post(path).content
    assert resolutions.count(path) == 3


# --- loaded before the server forks -----------------------------------------------------------

FIRST_REQUEST = """
import json, sys
import config.wsgi
from django.test import RequestFactory
environ = RequestFactory().post(
    "/webhooks/simulator/inbound",
    data={"message_id": "M1", "from": "+14155550100", "to": "+14155550101", "body": "hi"},
    content_type="application/json",
    headers={"X-Simulator-Signature": "0" * 64},
).environ
loaded = set(sys.modules)
status = []
chunks = config.wsgi.application(environ, lambda s, h, e=None: status.append(s))
b"".join(chunks)
chunks.close()
print(json.dumps({
    "status": status[0],
    "imported_by_the_request": sorted(set(sys.modules) - loaded),
    "urlconf_loaded": "config.urls" in loaded,
    "geocoder_loaded": "phonenumbers.geocoder" in loaded,
}))
"""


def test_a_new_workers_first_request_imports_nothing(tmp_path):
    """`config.wsgi` loads the URLconf, every view and what views import where they run, so
    a worker forked from it (or recycled) answers its first webhook without importing."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HIRETEXT_", "DATABASE_"))}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "HIRETEXT_VAR_DIR": str(tmp_path),
        "HIRETEXT_SIMULATOR_SECRET": "a-secret",
        "ALLOWED_HOSTS": "testserver",
    }
    run = subprocess.run(
        [sys.executable, "-c", FIRST_REQUEST], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.splitlines()[-1])
    assert found["status"].startswith("403")  # the bad signature: refused, nothing stored
    assert found["urlconf_loaded"]
    # (Codecs are the interpreter's, loaded on their first use.)
    assert [m for m in found["imported_by_the_request"] if not m.startswith("encodings.")] == []
    # The number search's geocoder (some 100 MB) is loaded by a search, never at start.
    assert not found["geocoder_loaded"]


def test_preloading_leaves_out_what_requests_never_import():
    from hiretext.lib.wsgi import _served_modules

    served = list(_served_modules())
    assert {
        "hiretext.messaging.inbound",
        "hiretext.api.messaging",
        "hiretext.carriers.twilio.http",
    } <= set(served)
    left_out = {"tests", "migrations", "management", "__main__"}
    assert not [m for m in served if left_out & set(m.split("."))]
    assert len(served) == len(set(served))
