"""The Carrier page: who may see it, what it shows (never a secret), save and test."""

import pytest
from django.urls import reverse

from hiretext.carrier_accounts.models import CarrierAccount
from hiretext.lib.crypto import decrypt

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "t0kent0kent0kent0kent0kent0ken12"
URL = "/admin/carrier/"


def form(**kw):
    return {"carrier": "twilio", "account_sid": SID, "auth_token": TOKEN, **kw}


@pytest.fixture
def as_admin(client, admin):
    client.force_login(admin)
    return client


def test_the_page_is_in_the_administration_menu(as_admin):
    page = as_admin.get(reverse("candidate-pool")).content.decode()
    assert f'href="{URL}"' in page and ">Carrier<" in page


@pytest.mark.parametrize("user", ["recruiter", "manager", "nobody"])
def test_others_are_refused(client, request, user):
    client.force_login(request.getfixturevalue(user))
    assert client.get(URL).status_code == 403
    assert client.post(URL, form()).status_code == 403
    assert client.post(URL + "test/").status_code == 403
    assert not CarrierAccount.objects.exists()
    assert f'href="{URL}"' not in client.get(reverse("candidate-pool")).content.decode()


def test_anonymous_goes_to_login(client, db):
    res = client.get(URL)
    assert res.status_code == 302 and "/login/" in res["Location"]


def test_default_page_says_simulator(as_admin):
    page = as_admin.get(URL).content.decode()
    assert "The built-in simulator" in page
    assert "Test connection" not in page


def test_saving_twilio_never_shows_the_token_back(as_admin, org, settings):
    settings.HIRETEXT_PUBLIC_URL = "https://hiretext.example.com"
    res = as_admin.post(URL, form())
    assert res.status_code == 302
    row = CarrierAccount.objects.get(organization=org)
    assert decrypt(row.auth_token_encrypted) == TOKEN
    page = as_admin.get(URL).content.decode()
    assert TOKEN not in page and row.auth_token_encrypted not in page
    assert "Carrier settings saved." in page
    assert SID in page
    assert "A token is stored (it is never shown)" in page
    assert "Test connection" in page
    assert "https://hiretext.example.com/webhooks/twilio/inbound" in page


def test_errors_rerender_without_echoing_secrets(as_admin):
    res = as_admin.post(URL, form(account_sid="AC123", auth_token="x" * 32 + "!"))
    assert res.status_code == 400
    page = res.content.decode()
    assert "An account SID is AC followed by 32 hexadecimal digits." in page
    assert "x" * 32 not in page
    assert not CarrierAccount.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"carrier": "pigeon"},
        form(account_sid="A" * 5000),
        form(auth_token="t" * 5000),
        form(account_sid="<script>alert(1)</script>"),
    ],
)
def test_wrong_hostile_and_oversized_input_is_400_and_escaped(as_admin, data):
    res = as_admin.post(URL, data)
    assert res.status_code == 400
    assert b"<script>alert(1)</script>" not in res.content
    assert not CarrierAccount.objects.filter(carrier="twilio").exists()


def test_test_connection_reports_success(as_admin, twilio_settings):
    as_admin.post(URL, form())
    res = as_admin.post(URL + "test/", follow=True)
    page = res.content.decode()
    assert "Connected to the Twilio account" in page
    assert 'data-testid="check-result"' in page
    assert twilio_settings.called("GET", f"/Accounts/{SID}.json")


def test_test_connection_reports_failure_clearly(as_admin, settings):
    import socket

    as_admin.post(URL, form())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.HIRETEXT_TWILIO_API_BASE = f"http://127.0.0.1:{port}"
    page = as_admin.post(URL + "test/", follow=True).content.decode()
    assert "Twilio connection failed: Could not reach Twilio" in page
    assert "✗" in page


def test_test_connection_is_post_only(as_admin):
    assert as_admin.get(URL + "test/").status_code == 405


def test_page_warns_without_a_public_url(as_admin, settings):
    settings.HIRETEXT_PUBLIC_URL = ""
    assert "HIRETEXT_PUBLIC_URL is not set" in as_admin.get(URL).content.decode()
