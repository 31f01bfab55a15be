"""/candidates and /contacts: behaviour, bad input, tenant isolation, CSRF and routing."""

import json

import pytest
from django.test import Client

from hiretext.api.tests.conftest import MODEL
from hiretext.api.tests.problem import assert_problem
from hiretext.ats.models import ActivityEntry, Candidate, Company, ConsentEvent, Contact

pytestmark = pytest.mark.django_db

KINDS = ["candidates", "contacts"]


def counts():
    return (
        Candidate.objects.count(),
        Contact.objects.count(),
        Company.objects.count(),
        ConsentEvent.objects.count(),
        ActivityEntry.objects.count(),
    )


@pytest.fixture
def api(api_as, recruiter):
    return api_as(recruiter)


# --- behaviour -------------------------------------------------------------------------


def test_candidate_round_trip(api, recruiter):
    created = api.post(
        "/candidates",
        {
            "first_name": " Ana ",
            "last_name": "Lima",
            "email": "ana@example.com",
            "mobile": "(415) 555-0142",
            "sms_consent": True,
            "time_zone": "America/Chicago",
            "external_id": "ats-9",
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body == {
        "id": body["id"],
        "external_id": "ats-9",
        "first_name": "Ana",
        "last_name": "Lima",
        "email": "ana@example.com",
        "mobile": "+14155550142",
        "sms_consent": True,
        "sms_opted_out": False,
        "textable": True,
        "time_zone": "America/Chicago",
    }
    event = ConsentEvent.objects.get(candidate_id=body["id"])
    assert (event.source, event.actor) == ("api", recruiter)
    assert api.get(f"/candidates/{body['id']}").json() == body

    patched = api.patch(f"/candidates/{body['id']}", {"mobile": "", "email": None})
    assert patched.status_code == 200
    assert (patched.json()["mobile"], patched.json()["email"], patched.json()["first_name"]) == (
        "",
        "",
        "Ana",
    )
    assert patched.json()["textable"] is False


def test_contact_has_company_and_title(api):
    created = api.post(
        "/contacts", {"first_name": "Nora", "company": "Northwind", "title": "Manager"}
    )
    assert created.status_code == 201
    assert (created.json()["company"], created.json()["title"]) == ("Northwind", "Manager")
    cid = created.json()["id"]
    again = api.post("/contacts", {"first_name": "Omar", "company": "Northwind"})
    assert Company.objects.count() == 1
    assert Contact.objects.get(pk=again.json()["id"]).company.name == "Northwind"
    cleared = api.patch(f"/contacts/{cid}", {"company": None})
    assert cleared.json()["company"] is None
    untouched = api.patch(f"/contacts/{again.json()['id']}", {"title": "CTO"})
    assert untouched.json()["company"] == "Northwind"


@pytest.mark.parametrize("kind", KINDS)
def test_upsert_creates_once_then_updates(kind, api):
    first = api.put(f"/{kind}/external/ats-42", {"first_name": "Ana", "sms_consent": True})
    assert first.status_code == 201
    second = api.put(f"/{kind}/external/ats-42", {"last_name": "Lima"})
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert (second.json()["first_name"], second.json()["last_name"]) == ("Ana", "Lima")
    assert second.json()["sms_consent"] is True
    assert MODEL[kind].objects.count() == 1
    same_id = api.put(f"/{kind}/external/ats-42", {"external_id": "ats-42"})
    assert same_id.status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_consent_endpoint_records_source_actor_note(kind, api, recruiter, make_person):
    person = make_person(kind)
    resp = api.post(
        f"/{kind}/{person.pk}/consent",
        {"granted": True, "source": "application", "note": "Ticked the box"},
    )
    assert resp.status_code == 200
    assert resp.json()["textable"] is True
    event = ConsentEvent.objects.get()
    assert (event.granted, event.source, event.note, event.actor) == (
        True,
        "application",
        "Ticked the box",
        recruiter,
    )
    assert ActivityEntry.objects.filter(kind="consent", ref_id=event.pk).count() == 1
    revoked = api.post(f"/{kind}/{person.pk}/consent", {"granted": False})
    assert revoked.json()["sms_consent"] is False
    assert ConsentEvent.objects.latest("id").source == "api"


def test_list_walks_every_page_without_gaps(api, make_person):
    for i in range(17):
        make_person("candidates", first_name=f"P{i:02d}", last_name=["B", "A"][i % 2])
    seen, cursor, pages = [], None, 0
    while True:
        path = "/candidates?limit=5" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(path).json()
        pages += 1
        seen.extend(p["id"] for p in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    expected = list(
        Candidate.objects.order_by("last_name", "first_name", "id").values_list("id", flat=True)
    )
    assert seen == expected
    assert pages == 4


@pytest.mark.parametrize(
    ("q", "expected"),
    [("ana", ["Ana"]), ("ana lima", ["Ana"]), ("bo@x", ["Bo"]), ("555 0199", ["Bo"])],
)
def test_list_search(api, make_person, q, expected):
    make_person("candidates", first_name="Ana", last_name="Lima")
    make_person("candidates", first_name="Bo", email="bo@x.example", mobile="+14155550199")
    resp = api.get("/candidates", data={"q": q})
    assert [p["first_name"] for p in resp.json()["items"]] == expected


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("body", "status", "code", "detail"),
    [
        ({"first_name": "A", "mobile": "12345"}, 422, "invalid_phone_number", "“12345”"),
        ({"first_name": "A", "mobile": "call me"}, 422, "invalid_phone_number", "not a phone"),
        ({}, 400, "validation_error", "first_name: This field is required."),
        ({"first_name": "   "}, 400, "validation_error", "first_name: This field is required."),
        ({"first_name": None}, 400, "validation_error", "first_name: This field is required."),
        ({"first_name": "x" * 101}, 400, "validation_error", "first_name: String should have"),
        ({"first_name": "A", "last_name": "x" * 101}, 400, "validation_error", "last_name"),
        ({"first_name": "A", "email": "x" * 255}, 400, "validation_error", "email"),
        ({"first_name": "A", "email": "nope"}, 400, "validation_error", "valid email"),
        ({"first_name": 5}, 400, "validation_error", "first_name: Input should be a valid string"),
        ({"first_name": "A", "sms_consent": "yes"}, 400, "validation_error", "sms_consent"),
        ({"first_name": "A", "sms_consent": 1}, 400, "validation_error", "sms_consent"),
        ({"first_name": "A", "is_admin": True}, 400, "validation_error", "is_admin: Extra inputs"),
        ({"first_name": "A", "id": 7}, 400, "validation_error", "id: Extra inputs"),
        ({"first_name": "A", "sms_opted_out": False}, 400, "validation_error", "sms_opted_out"),
        ({"first_name": "A", "time_zone": "Mars/Base"}, 400, "validation_error", "time zone"),
        ({"first_name": "A\x00B"}, 400, "validation_error", "null characters"),
        ({"first_name": ["A"]}, 400, "validation_error", "first_name"),
        ({"first_name": "A", "external_id": "x" * 101}, 400, "validation_error", "external_id"),
    ],
)
def test_create_refusals_are_precise_and_write_nothing(api, kind, body, status, code, detail):
    before = counts()
    resp = api.post(f"/{kind}", body)
    assert_problem(resp, status, code, detail)
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"first_name": "A", "company": "x" * 101}, "company"),
        ({"first_name": "A", "title": "x" * 101}, "title"),
        ({"first_name": "A", "company": 3}, "company"),
    ],
)
def test_contact_specific_refusals(api, body, detail):
    before = counts()
    assert_problem(api.post("/contacts", body), 400, "validation_error", detail)
    assert counts() == before


def test_candidates_have_no_company(api):
    assert_problem(
        api.post("/candidates", {"first_name": "A", "company": "X"}),
        400,
        "validation_error",
        "company: Extra inputs are not permitted",
    )


@pytest.mark.parametrize(
    ("raw", "content_type", "detail"),
    [
        ("{not json", "application/json", "The request body is not valid JSON."),
        ('{"first_name": "A",}', "application/json", "The request body is not valid JSON."),
        ("[]", "application/json", ""),
        ('"just a string"', "application/json", ""),
        ("null", "application/json", ""),
        ("first_name=A", "application/x-www-form-urlencoded", ""),
        (b"\xff\xfe{}", "application/json", "The request body is not valid JSON."),
    ],
)
def test_malformed_bodies_are_validation_errors(api, client, recruiter, raw, content_type, detail):
    before = counts()
    resp = client.post(
        "/api/v1/candidates",
        raw,
        content_type=content_type,
        headers=api.headers,
    )
    assert_problem(resp, 400, "validation_error", detail)
    assert counts() == before


def test_empty_body_is_a_validation_error(api, client):
    resp = client.post(
        "/api/v1/candidates", "", content_type="application/json", headers=api.headers
    )
    assert_problem(resp, 400, "validation_error")
    assert Candidate.objects.count() == 0


def test_oversized_body_is_413_not_500(api, client):
    body = json.dumps({"first_name": "A", "last_name": "x" * 1_100_000})
    resp = client.post(
        "/api/v1/candidates", body, content_type="application/json", headers=api.headers
    )
    assert_problem(resp, 413, "request_too_large", "The request body is too large.")
    assert Candidate.objects.count() == 0


@pytest.mark.parametrize("kind", KINDS)
def test_patch_refusals_change_nothing(api, kind, make_person):
    person = make_person(kind, first_name="Ana", mobile="+14155550142", external_id="mine")
    make_person(kind, first_name="Bo", external_id="taken")
    before = counts()
    for body, status, code, detail in [
        ({"mobile": "555"}, 422, "invalid_phone_number", "“555”"),
        ({"first_name": ""}, 400, "validation_error", "first_name: This field is required."),
        ({"first_name": "Zed", "mobile": "nope"}, 422, "invalid_phone_number", "nope"),
        ({"external_id": "taken"}, 409, "external_id_taken", "already has that external id"),
        ({"sms_consent": "true"}, 400, "validation_error", "sms_consent"),
        ({"bogus": 1}, 400, "validation_error", "bogus"),
    ]:
        assert_problem(api.patch(f"/{kind}/{person.pk}", body), status, code, detail)
    person.refresh_from_db()
    assert (person.first_name, person.mobile, person.external_id) == ("Ana", "+14155550142", "mine")
    assert counts() == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "granted: Field required"),
        ({"granted": "true"}, "granted: Input should be a valid boolean"),
        ({"granted": True, "source": "sms_keyword"}, "source: Input should be"),
        ({"granted": True, "source": "carrier"}, "source"),
        ({"granted": True, "source": 3}, "source"),
        ({"granted": True, "note": "x" * 501}, "note: String should have at most 500"),
        ({"granted": True, "note": "a\x00"}, "null characters"),
        ({"granted": True, "source": "user"}, "Add a note saying how the person gave consent."),
        ({"granted": True, "actor": 1}, "actor: Extra inputs"),
    ],
)
def test_consent_refusals_write_nothing(api, kind, make_person, body, detail):
    person = make_person(kind)
    before = counts()
    assert_problem(api.post(f"/{kind}/{person.pk}/consent", body), 400, "validation_error", detail)
    assert counts() == before
    person.refresh_from_db()
    assert person.sms_consent is False


@pytest.mark.parametrize("kind", KINDS)
def test_upsert_refusals(api, kind):
    before = counts()
    for path, body, status, code, detail in [
        (f"/{kind}/external/{'x' * 101}", {"first_name": "A"}, 400, "validation_error", "1 to 100"),
        (f"/{kind}/external/%20%20", {"first_name": "A"}, 400, "validation_error", "1 to 100"),
        (f"/{kind}/external/a%00b", {"first_name": "A"}, 400, "validation_error", "1 to 100"),
        (f"/{kind}/external/e1", {}, 400, "validation_error", "This field is required."),
        (
            f"/{kind}/external/e1",
            {"first_name": "A", "mobile": "1"},
            422,
            "invalid_phone_number",
            "",
        ),
        (
            f"/{kind}/external/e1",
            {"first_name": "A", "external_id": "e2"},
            400,
            "validation_error",
            "differs from the one in the URL",
        ),
    ]:
        assert_problem(api.put(path, body), status, code, detail or None)
    assert counts() == before


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("cursor=garbage", "That cursor is not valid."),
        ("cursor=WyJhIiwiYiIsIngiXQ", "That cursor is not valid."),  # ["a","b","x"]
        ("limit=ten", "limit: Input should be a valid integer"),
    ],
)
def test_bad_list_parameters(api, query, detail):
    body = assert_problem(api.get(f"/candidates?{query}"), 400, "validation_error", detail)
    if "cursor" in query:
        assert body["errors"] == {"cursor": ["Invalid cursor."]}


def test_odd_but_harmless_list_parameters(api, make_person):
    make_person("candidates")
    for query in ("limit=0", "limit=-5", "limit=100000", "q=" + "a" * 5000, "q=%00", "cursor="):
        resp = api.get(f"/candidates?{query}")
        assert resp.status_code == 200, query


def test_hostile_names_are_stored_and_returned_verbatim_as_json(api):
    name = '<script>alert("x")</script>'
    resp = api.post("/candidates", {"first_name": name, "last_name": "' OR 1=1 --"})
    assert resp.status_code == 201
    assert resp["Content-Type"] == "application/json; charset=utf-8"
    assert api.get(f"/candidates/{resp.json()['id']}").json()["first_name"] == name


# --- tenant isolation ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_other_organisations_ids_are_not_found(kind, api_as, admin, other_org, make_person):
    theirs = make_person(kind, organization=other_org, first_name="Theirs", external_id="ext-1")
    api = api_as(admin)
    before = counts()
    missing = f"No such {kind.rstrip('s')}."
    assert_problem(api.get(f"/{kind}/{theirs.pk}"), 404, "not_found", missing)
    assert_problem(api.patch(f"/{kind}/{theirs.pk}", {"first_name": "Mine"}), 404, "not_found")
    assert_problem(api.delete(f"/{kind}/{theirs.pk}"), 404, "not_found")
    assert_problem(
        api.post(f"/{kind}/{theirs.pk}/consent", {"granted": True, "note": "x"}), 404, "not_found"
    )
    assert api.get(f"/{kind}").json()["items"] == []
    assert counts() == before

    # Upserting the same external id creates our own record and leaves theirs alone.
    resp = api.put(f"/{kind}/external/ext-1", {"first_name": "Mine", "sms_consent": True})
    assert resp.status_code == 201
    assert resp.json()["id"] != theirs.pk
    theirs.refresh_from_db()
    assert (theirs.first_name, theirs.sms_consent) == ("Theirs", False)
    assert MODEL[kind].objects.filter(external_id="ext-1").count() == 2


@pytest.mark.parametrize(
    "path", ["/candidates/0", "/candidates/99999999999999999999", "/contacts/-1"]
)
def test_impossible_ids_are_not_found(api, path):
    resp = api.get(path)
    assert resp.status_code in (404,)
    assert resp["Content-Type"] == "application/problem+json"
    assert resp.json()["code"] == "not_found"


# --- authentication and CSRF -----------------------------------------------------------


@pytest.fixture
def browser(recruiter):
    """A logged-in browser session that enforces CSRF like a real one."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(recruiter)
    client.get("/candidates/")  # sets the csrftoken cookie
    return client


def test_session_reads_need_no_csrf_token(browser, make_person):
    make_person("candidates")
    resp = browser.get("/api/v1/candidates")
    assert resp.status_code == 200
    assert len(resp.json()["items"]) == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/candidates", {"first_name": "A"}),
        ("patch", "/candidates/{id}", {"first_name": "B"}),
        ("delete", "/candidates/{id}", None),
        ("put", "/candidates/external/e", {"first_name": "C"}),
        ("post", "/candidates/{id}/consent", {"granted": False}),
        ("post", "/contacts", {"first_name": "A"}),
    ],
)
def test_session_writes_need_the_csrf_token(browser, make_person, method, path, body):
    person = make_person("candidates", first_name="Ana")
    url = "/api/v1" + path.format(id=person.pk)
    data = json.dumps(body) if body is not None else None
    before = counts()
    resp = getattr(browser, method)(url, data, content_type="application/json")
    assert_problem(resp, 403, "csrf_failed", "X-CSRFToken")
    assert counts() == before
    person.refresh_from_db()
    assert person.first_name == "Ana"

    token = browser.cookies["csrftoken"].value
    resp = getattr(browser, method)(
        url, data, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert resp.status_code in (200, 201, 204)


def test_a_wrong_csrf_token_is_refused(browser):
    resp = browser.post(
        "/api/v1/candidates",
        json.dumps({"first_name": "A"}),
        content_type="application/json",
        headers={"X-CSRFToken": "x" * 32},
    )
    assert_problem(resp, 403, "csrf_failed")


def test_bearer_tokens_need_no_csrf_even_beside_a_session(browser, recruiter):
    from hiretext.accounts.models import ApiToken

    _, raw = ApiToken.issue(recruiter)
    resp = browser.post(
        "/api/v1/candidates",
        json.dumps({"first_name": "A"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert resp.status_code == 201
    plain = Client(enforce_csrf_checks=True)
    resp = plain.post(
        "/api/v1/candidates",
        json.dumps({"first_name": "B"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert resp.status_code == 201


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Bearer " + "x" * 500},
        {"Authorization": "Basic dXNlcjpwdw=="},
        {"Authorization": "Bearer"},
    ],
)
def test_unauthenticated_writes_are_401_not_csrf_403(db, headers):
    client = Client(enforce_csrf_checks=True)
    resp = client.post(
        "/api/v1/candidates",
        json.dumps({"first_name": "A"}),
        content_type="application/json",
        headers=headers,
    )
    assert_problem(resp, 401, "unauthenticated")
    assert Candidate.objects.count() == 0


def test_a_deactivated_users_token_stops_working(api_as, recruiter):
    api = api_as(recruiter)
    assert api.get("/candidates").status_code == 200
    recruiter.is_active = False
    recruiter.save()
    assert_problem(api.get("/candidates"), 401, "unauthenticated")


# --- routing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/nope"),
        ("post", "/nope"),
        ("get", "/candidates/1/2/3"),
        ("delete", "/"),
        ("get", "/candidates/"),
    ],
)
def test_unknown_routes_are_problem_404(api, method, path):
    resp = getattr(api, method)(path)
    assert_problem(resp, 404, "not_found")


def test_a_non_numeric_id_is_a_validation_error(api):
    assert_problem(
        api.get("/candidates/abc"), 400, "validation_error", "person_id: Input should be a valid"
    )


def test_unknown_routes_without_credentials_are_404_too(client, db):
    assert_problem(client.post("/api/v1/nope", {}), 404, "not_found", "/api/v1/nope")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", "/candidates", "GET, POST"),
        ("put", "/candidates", "GET, POST"),
        ("post", "/users", "GET"),
        ("get", "/candidates/external/x", "PUT"),
        ("get", "/auth/token", "POST"),
        ("put", "/contacts/1/consent", "POST"),
    ],
)
def test_wrong_methods_are_problem_405(api, method, path, allowed):
    resp = getattr(api, method)(path)
    body = assert_problem(resp, 405, "method_not_allowed")
    assert sorted(resp["Allow"].split(", ")) == sorted(allowed.split(", "))
    assert method.upper() in body["detail"]


def test_openapi_lists_the_contract_routes(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    for path in [
        "/api/v1/auth/token",
        "/api/v1/users",
        "/api/v1/candidates",
        "/api/v1/candidates/{person_id}",
        "/api/v1/candidates/external/{external_id}",
        "/api/v1/candidates/{person_id}/consent",
        "/api/v1/contacts",
        "/api/v1/contacts/{person_id}",
        "/api/v1/contacts/external/{external_id}",
        "/api/v1/contacts/{person_id}/consent",
    ]:
        assert path in spec["paths"], path


def test_an_unexpected_error_is_a_problem_500_without_details(api, monkeypatch):
    from hiretext.ats import services

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "create_person", boom)
    body = assert_problem(api.post("/candidates", {"first_name": "A"}), 500, "internal_error")
    assert "secret" not in json.dumps(body)


def test_docs_and_schema_are_served(client, db):
    assert client.get("/api/v1/docs").status_code == 200
    assert client.get("/api/v1/openapi.json")["Content-Type"].startswith("application/json")
    assert client.get("/api/docs")["Location"] == "/api/v1/docs"


def test_oversized_form_body_with_a_session_is_413(browser):
    before = counts()
    resp = browser.post("/api/v1/candidates", {"first_name": "A", "x": "y" * 1_100_000})
    assert_problem(resp, 413, "request_too_large")
    assert counts() == before


def test_an_expired_session_is_401_not_a_csrf_failure(recruiter, db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(recruiter)
    client.logout()  # the browser still sends its old cookie
    client.cookies["sessionid"] = "expired-or-forged"
    resp = client.post(
        "/api/v1/candidates", json.dumps({"first_name": "A"}), content_type="application/json"
    )
    assert_problem(resp, 401, "unauthenticated")
