"""GET|PUT /api/v1/carrier and POST /api/v1/carrier/check."""

import pytest

from hiretext.carrier_accounts.models import CarrierAccount

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "t0kent0kent0kent0kent0kent0ken12"
SERVICE = "MG" + "00112233445566778899aabbccddeeff"


def body(**kw):
    return {"carrier": "twilio", "account_sid": SID, "auth_token": TOKEN, **kw}


def test_default_is_the_simulator(api_as, admin):
    res = api_as(admin).get("/carrier")
    assert res.status_code == 200
    data = res.json()
    assert data["carrier"] == "simulator"
    assert data["auth_token_set"] is False
    assert "auth_token" not in data


def test_put_then_get_never_returns_the_token(api_as, admin, settings):
    settings.HIRETEXT_PUBLIC_URL = "https://hiretext.example.com"
    api = api_as(admin)
    res = api.put("/carrier", json=body(messaging_service_sid=SERVICE))
    assert res.status_code == 200, res.content
    for data in (res.json(), api.get("/carrier").json()):
        assert data["carrier"] == "twilio"
        assert data["account_sid"] == SID
        assert data["auth_token_set"] is True
        assert data["messaging_service_sid"] == SERVICE
        assert data["inbound_webhook_url"] == "https://hiretext.example.com/webhooks/twilio/inbound"
        assert data["status_webhook_url"] == "https://hiretext.example.com/webhooks/twilio/status"
    assert TOKEN not in res.content.decode()
    assert TOKEN not in api.get("/carrier").content.decode()


def test_omitting_the_token_keeps_it(api_as, admin):
    api = api_as(admin)
    api.put("/carrier", json=body())
    res = api.put("/carrier", json={"carrier": "twilio", "account_sid": SID})
    assert res.status_code == 200
    assert res.json()["auth_token_set"] is True


@pytest.mark.parametrize("user", ["recruiter", "manager", "nobody"])
def test_needs_manage_text_messaging(api_as, request, user):
    api = api_as(request.getfixturevalue(user))
    assert api.get("/carrier").json()["code"] == "permission_denied"
    res = api.put("/carrier", json=body())
    assert (res.status_code, res.json()["code"]) == (403, "permission_denied")
    assert api.post("/carrier/check").status_code == 403
    assert not CarrierAccount.objects.exists()


def test_needs_authentication(api_as, db):
    assert api_as(None).get("/carrier").status_code == 401
    assert api_as(None).put("/carrier", json=body()).status_code == 401


def test_each_org_sees_its_own(api_as, admin, other_admin):
    api_as(admin).put("/carrier", json=body())
    assert api_as(other_admin).get("/carrier").json()["carrier"] == "simulator"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "carrier"),
        ({"carrier": "pigeon"}, "carrier"),
        ({"carrier": 1}, "carrier"),
        (body(account_sid=None), "account_sid"),
        (body(auth_token=123), "auth_token"),
        (body(account_sid="x" * 101), "account_sid"),
        (body(auth_token="x" * 5000), "auth_token"),
        (body(extra="field"), "extra"),
        (body(account_sid="AC123"), "account_sid"),
        (body(auth_token="not a token"), "auth_token"),
        (body(messaging_service_sid="MG<script>"), "messaging_service_sid"),
    ],
)
def test_bad_bodies_are_400_with_the_field_and_write_nothing(api_as, admin, payload, field):
    res = api_as(admin).put("/carrier", json=payload)
    assert res.status_code == 400, res.content
    problem = res.json()
    assert res["Content-Type"] == "application/problem+json"
    assert problem["code"] == "validation_error"
    errors = problem["errors"]  # schema errors: a list; service errors: field -> messages
    fields = set(errors) if isinstance(errors, dict) else {e["field"] for e in errors}
    assert field in fields
    assert not CarrierAccount.objects.filter(carrier="twilio").exists()


def test_not_json_is_400(api_as, admin, client):
    res = client.put(
        "/api/v1/carrier",
        data="carrier=twilio",
        content_type="application/x-www-form-urlencoded",
        headers=api_as(admin).headers,
    )
    assert res.status_code == 400


def test_switching_away_with_numbers_is_a_conflict(api_as, admin, org):
    from hiretext.numbers import services as numbers

    seat = numbers.ensure_seats(org, 1)[0]
    numbers.buy_number(admin, seat, area_code="415", terms_accepted=True)
    res = api_as(admin).put("/carrier", json=body())
    assert (res.status_code, res.json()["code"]) == (409, "carrier_has_numbers")


def test_check_reports_success_against_the_mock(api_as, admin, twilio_settings):
    api = api_as(admin)
    api.put("/carrier", json=body())
    res = api.post("/carrier/check")
    assert res.status_code == 200
    assert res.json()["ok"] is True
    got = api.get("/carrier").json()
    assert got["check_ok"] is True and got["checked_at"]


def test_the_routes_are_in_the_openapi_document(client, db):
    doc = client.get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    assert {"get", "put"} <= set(paths["/api/v1/carrier"])
    assert "post" in paths["/api/v1/carrier/check"]
    out = doc["components"]["schemas"]["CarrierOut"]["properties"]
    assert "auth_token_set" in out and "auth_token" not in out  # write-only
    assert "auth_token" in doc["components"]["schemas"]["CarrierIn"]["properties"]
