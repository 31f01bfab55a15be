"""Sessions are read by one plain SELECT; what Django's store would refuse stays refused."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hiretext.accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _signed_in(client, user) -> str:
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_a_live_session_is_read_in_one_statement(recruiter, client):
    key = _signed_in(client, recruiter)
    store = SessionStore(key)
    with CaptureQueriesContext(connection) as captured:
        data = store.load()
    assert len(captured) == 1 and "django_session" in captured.captured_queries[0]["sql"]
    assert data["_auth_user_id"] == str(recruiter.pk)
    assert client.get("/inbox/chats/").status_code == 200


def test_an_expired_session_signs_out(recruiter, client):
    key = _signed_in(client, recruiter)
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/inbox/chats/")
    assert response.status_code == 302 and "/login" in response["Location"]
    store = SessionStore(key)
    assert store.load() == {} and store.session_key is None


@pytest.mark.parametrize(
    "cookie",
    ["nosuchsessionkey12345", "x" * 41, "x" * 5000, "'; DROP TABLE django_session; --", "é" * 20],
)
def test_unknown_malformed_and_hostile_cookies_are_signed_out(recruiter, client, cookie):
    _signed_in(client, recruiter)
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = client.get("/inbox/chats/")
    assert response.status_code == 302 and "/login" in response["Location"]
    assert Session.objects.count() == 1  # nothing dropped, nothing written


def test_saving_and_deleting_are_djangos(recruiter):
    store = SessionStore()
    store["k"] = "v"
    store.create()
    again = SessionStore(store.session_key)
    assert again["k"] == "v"
    again.delete()
    assert SessionStore(store.session_key).load() == {}


def test_the_key_length_is_the_columns():
    from hiretext.accounts.sessions import KEY_LENGTH

    assert Session._meta.get_field("session_key").max_length == KEY_LENGTH
