import pytest

pytestmark = pytest.mark.django_db


def test_token_for_right_password_acts_as_its_user(client, recruiter, api_as):
    resp = client.post(
        "/api/v1/auth/token",
        {"email": "Recruiter1@Acme.test", "password": "pw-123456"},
        content_type="application/json",
    )
    assert resp.status_code == 200
    token = resp.json()["token"]
    users = client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert users.status_code == 200
    assert [u["email"] for u in users.json()["items"]] == ["recruiter1@acme.test"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "recruiter1@acme.test", "password": "wrong"}, 401, "invalid_credentials"),
        ({"email": "nobody@acme.test", "password": "pw-123456"}, 401, "invalid_credentials"),
        ({"email": "recruiter1@acme.test"}, 400, "validation_error"),
        ({"email": 5, "password": "pw-123456"}, 400, "validation_error"),
        ({"email": "x" * 300, "password": "pw"}, 400, "validation_error"),
        (
            {"email": "recruiter1@acme.test", "password": "pw-123456", "admin": True},
            400,
            "validation_error",
        ),
    ],
)
def test_token_refusals_are_problem_json(client, recruiter, body, status, code):
    resp = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert resp.status_code == status
    assert resp["Content-Type"] == "application/problem+json"
    assert resp.json()["code"] == code
    assert resp.json()["detail"]
    if status == 401:
        assert resp["WWW-Authenticate"] == 'Bearer realm="hiretext"'


def test_malformed_json_is_a_validation_error(client, recruiter):
    resp = client.post("/api/v1/auth/token", "{not json", content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["code"] == "validation_error"


def test_missing_or_unknown_token_is_unauthenticated(client, api_as):
    assert api_as(None).get("/users").json()["code"] == "unauthenticated"
    resp = client.get("/api/v1/users", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401
    assert resp.json()["code"] == "unauthenticated"


def test_users_lists_only_my_organisation(recruiter, admin, other_admin, api_as):
    emails = {u["email"] for u in api_as(recruiter).get("/users").json()["items"]}
    assert emails == {"recruiter1@acme.test", "admin@acme.test"}


def test_healthz(client, db):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["database"] == "ok"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "recruiter1@acme.test\x00", "password": "pw-123456"}, 400, "validation_error"),
        ({"email": "recruiter1@acme.test", "password": "pw\x00"}, 400, "validation_error"),
        ({"email": "", "password": ""}, 401, "invalid_credentials"),
        ({"email": None, "password": "pw-123456"}, 400, "validation_error"),
        ([], 400, "validation_error"),
    ],
)
def test_hostile_token_requests_never_500(client, recruiter, body, status, code):
    resp = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert resp.status_code == status
    assert resp["Content-Type"] == "application/problem+json"
    assert resp.json()["code"] == code


def test_inactive_users_get_no_token(client, recruiter):
    recruiter.is_active = False
    recruiter.save()
    resp = client.post(
        "/api/v1/auth/token",
        {"email": "recruiter1@acme.test", "password": "pw-123456"},
        content_type="application/json",
    )
    assert resp.status_code == 401
    assert resp.json()["code"] == "invalid_credentials"
