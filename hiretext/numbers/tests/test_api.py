import pytest

from hiretext.carriers.simulator.models import SimulatorNumber
from hiretext.numbers import services
from hiretext.numbers.models import NumberCharge, PhoneNumber, SeatAssignment, TermsAcceptance

pytestmark = pytest.mark.django_db

BUY = {"mode": "choose", "area_code": "415", "e164": "+14155550142", "terms_accepted": True}


def problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    return body


@pytest.fixture
def api(api_as, admin):
    return api_as(admin)


# --- GET /seats ---------------------------------------------------------------------------


def test_list_seats_shows_number_users_and_allowance(api, seats, buy, admin, recruiter):
    number = buy(seats[0], e164="+14155550142")
    services.assign_user(admin, seats[0], recruiter.pk)
    response = api.get("/seats")
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    first, second = body["items"][:2]
    assert first == {
        "id": seats[0].pk,
        "position": 1,
        "number": {"id": number.pk, "e164": "+14155550142", "status": "active"},
        "users": [{"id": recruiter.pk, "name": "Dana Li", "email": "recruiter1@acme.test"}],
        "monthly_allowance": 250,
        "used_this_month": 0,
        "remaining_this_month": 250,
    }
    assert second["number"] is None and second["users"] == []
    assert len(body["items"]) == 3


def test_list_seats_only_shows_my_organisation(api, seats, other_seats):
    ids = [s["id"] for s in api.get("/seats").json()["items"]]
    assert ids == [s.pk for s in seats]


def test_list_seats_paginates_and_queries_stay_flat(
    api, org, buy, admin, make_user, django_assert_max_num_queries
):
    seats = services.ensure_seats(org, 6)
    for i, seat in enumerate(seats[:4]):
        buy(seat)
        services.assign_users(admin, seat, [make_user(f"u{i}{j}@acme.test").pk for j in range(3)])
    first = api.get("/seats?limit=4").json()
    assert [s["position"] for s in first["items"]] == [1, 2, 3, 4]
    assert all(len(s["users"]) == 3 for s in first["items"])
    rest = api.get(f"/seats?limit=4&cursor={first['next_cursor']}").json()
    assert [s["position"] for s in rest["items"]] == [5, 6]
    assert rest["next_cursor"] is None
    with django_assert_max_num_queries(10):
        api.get("/seats")


def test_bad_cursor_is_a_validation_error(api, seats):
    problem(api.get("/seats?cursor=not-a-cursor"), 400, "validation_error")


# --- GET /numbers/available ---------------------------------------------------------------


def test_available_numbers(api, seats):
    response = api.get("/numbers/available?area_code=415")
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 20
    assert all(i["e164"].startswith("+14155550") for i in items)
    assert items[0]["locality"] == "San Francisco, CA"
    assert items == sorted(items, key=lambda i: i["e164"])


def test_unknown_area_code_has_no_numbers(api):
    assert api.get("/numbers/available?area_code=000").json()["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?area_code=",
        "?area_code=41",
        "?area_code=4155",
        "?area_code=abc",
        "?area_code=" + "9" * 5000,
    ],
)
def test_available_numbers_needs_a_3_digit_area_code(api, query):
    body = problem(api.get("/numbers/available" + query), 400, "validation_error")
    assert len(body["detail"]) < 300


# --- POST /seats/{id}/number --------------------------------------------------------------


def test_buy_chosen_number(api, seats, admin):
    response = api.post(f"/seats/{seats[0].pk}/number", json=BUY)
    assert response.status_code == 201
    assert response.json()["number"]["e164"] == "+14155550142"
    assert response.json()["number"]["status"] == "active"
    number = PhoneNumber.objects.get()
    assert TermsAcceptance.objects.get(number=number).accepted_by == admin
    assert NumberCharge.objects.filter(number=number).count() == 1


def test_buy_auto(api, seats):
    body = {"mode": "auto", "area_code": "646", "terms_accepted": True}
    response = api.post(f"/seats/{seats[0].pk}/number", json=body)
    assert response.status_code == 201
    assert response.json()["number"]["e164"].startswith("+16465550")


@pytest.mark.parametrize("terms", [False, None])
def test_buy_needs_terms(api, seats, terms):
    body = (
        {**BUY, "terms_accepted": terms}
        if terms is not None
        else {k: v for k, v in BUY.items() if k != "terms_accepted"}
    )
    problem(api.post(f"/seats/{seats[0].pk}/number", json=body), 422, "terms_not_accepted")
    assert not PhoneNumber.objects.exists()
    assert not SimulatorNumber.objects.exists()


def test_buy_taken_number(api, seats, other_seats, buy, other_admin):
    buy(other_seats[0], e164="+14155550142", actor=other_admin)
    body = problem(api.post(f"/seats/{seats[0].pk}/number", json=BUY), 409, "number_unavailable")
    assert "+1 415 555 0142" in body["detail"]


def test_buy_on_a_seat_with_a_number(api, seats, buy):
    buy(seats[0])
    problem(api.post(f"/seats/{seats[0].pk}/number", json=BUY), 409, "seat_has_number")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"mode": "choose", "area_code": "415", "terms_accepted": True},  # no e164
        {"mode": "auto", "area_code": "415", "e164": "+14155550142", "terms_accepted": True},
        {**BUY, "mode": "random"},
        {**BUY, "area_code": 415},
        {**BUY, "area_code": "41"},
        {**BUY, "area_code": "4155"},
        {**BUY, "area_code": "abc"},
        {**BUY, "area_code": None},
        {**BUY, "terms_accepted": "yes"},
        {**BUY, "terms_accepted": 1},
        {**BUY, "e164": "4155550142"},
        {**BUY, "e164": "+1" + "4" * 5000},
        {**BUY, "e164": "+12125550142"},
        {**BUY, "extra": "field"},
        [BUY],
        "not an object",
    ],
)
def test_buy_rejects_bad_input(api, seats, body):
    response = api.post(f"/seats/{seats[0].pk}/number", json=body)
    problem(response, 400, "validation_error")
    assert not PhoneNumber.objects.exists()


def test_buy_rejects_malformed_json(client, admin, api_as, seats):
    api = api_as(admin)
    response = api.client.post(
        f"/api/v1/seats/{seats[0].pk}/number",
        data="{not json",
        content_type="application/json",
        headers=api.headers,
    )
    problem(response, 400, "validation_error")


# --- DELETE /seats/{id}/number ------------------------------------------------------------


def test_release(api, seats, buy, admin, recruiter):
    buy(seats[0])
    services.assign_user(admin, seats[0], recruiter.pk)
    response = api.delete(f"/seats/{seats[0].pk}/number")
    assert response.status_code == 200
    assert response.json()["number"] is None
    assert response.json()["users"][0]["id"] == recruiter.pk
    assert PhoneNumber.objects.get().status == "released"
    problem(api.delete(f"/seats/{seats[0].pk}/number"), 404, "not_found")


# --- PATCH /seats/{id} --------------------------------------------------------------------


def test_patch_allowance(api, seats, buy):
    buy(seats[0])
    response = api.patch(f"/seats/{seats[0].pk}", json={"monthly_allowance": 500})
    assert response.status_code == 200
    assert response.json()["monthly_allowance"] == 500
    assert response.json()["remaining_this_month"] == 500


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"monthly_allowance": -1},
        {"monthly_allowance": 100_001},
        {"monthly_allowance": 10**30},
        {"monthly_allowance": "500"},
        {"monthly_allowance": 2.5},
        {"monthly_allowance": True},
        {"monthly_allowance": None},
        {"monthly_allowance": 5, "users": []},
    ],
)
def test_patch_rejects_bad_input(api, seats, body):
    problem(api.patch(f"/seats/{seats[0].pk}", json=body), 400, "validation_error")
    seats[0].refresh_from_db()
    assert seats[0].monthly_allowance == 250


# --- POST /seats/{id}/users, DELETE /seats/{id}/users/{user_id} ---------------------------


def test_assign_and_remove(api, seats, buy, recruiter):
    buy(seats[0], e164="+14155550142")
    response = api.post(f"/seats/{seats[0].pk}/users", json={"user_id": recruiter.pk})
    assert response.status_code == 201
    assert [u["id"] for u in response.json()["users"]] == [recruiter.pk]
    response = api.delete(f"/seats/{seats[0].pk}/users/{recruiter.pk}")
    assert response.status_code == 200
    assert response.json()["users"] == []
    problem(api.delete(f"/seats/{seats[0].pk}/users/{recruiter.pk}"), 404, "not_found")


def test_assign_conflicts(api, seats, buy, admin, recruiter, make_user):
    buy(seats[0], e164="+14155550142")
    services.assign_user(admin, seats[0], recruiter.pk)
    body = problem(
        api.post(f"/seats/{seats[1].pk}/users", json={"user_id": recruiter.pk}),
        409,
        "user_already_assigned",
    )
    assert body["detail"] == "Dana Li is already assigned to +1 415 555 0142."
    services.assign_users(admin, seats[0], [make_user(f"x{i}@acme.test").pk for i in range(2)])
    late = make_user("late@acme.test")
    body = problem(
        api.post(f"/seats/{seats[0].pk}/users", json={"user_id": late.pk}), 409, "seat_full"
    )
    assert body["detail"] == "This number already has 3 users."


def test_assign_user_of_another_org_is_not_found(api, seats, other_admin):
    problem(
        api.post(f"/seats/{seats[0].pk}/users", json={"user_id": other_admin.pk}), 404, "not_found"
    )
    assert not SeatAssignment.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"user_id": "1"},
        {"user_id": None},
        {"user_id": 0},
        {"user_id": -3},
        {"user_id": 2**70},
        {"user_id": 1.0},
        {"user_id": [1]},
    ],
)
def test_assign_rejects_bad_input(api, seats, body):
    problem(api.post(f"/seats/{seats[0].pk}/users", json=body), 400, "validation_error")


# --- permissions and other organisations --------------------------------------------------


def routes(seat_id, user_id):
    return [
        ("get", "/seats", None),
        ("get", "/numbers/available?area_code=415", None),
        ("post", f"/seats/{seat_id}/number", BUY),
        ("delete", f"/seats/{seat_id}/number", None),
        ("patch", f"/seats/{seat_id}", {"monthly_allowance": 10}),
        ("post", f"/seats/{seat_id}/users", {"user_id": user_id}),
        ("delete", f"/seats/{seat_id}/users/{user_id}", None),
    ]


@pytest.mark.parametrize("who", ["recruiter", "manager", "nobody"])
def test_every_route_needs_manage_text_messaging(api_as, request, seats, buy, admin, who):
    user = request.getfixturevalue(who)
    buy(seats[1])
    services.assign_user(admin, seats[1], user.pk)
    client = api_as(user)
    for method, path, body in routes(seats[1].pk, user.pk):
        kwargs = {"json": body} if body is not None else {}
        problem(getattr(client, method)(path, **kwargs), 403, "permission_denied")
    assert PhoneNumber.objects.get().status == "active"
    assert SeatAssignment.objects.filter(user=user).exists()


def test_every_route_needs_authentication(api_as, seats):
    client = api_as(None)
    for method, path, body in routes(seats[0].pk, 1):
        kwargs = {"json": body} if body is not None else {}
        problem(getattr(client, method)(path, **kwargs), 401, "unauthenticated")


def test_other_organisations_seats_are_not_found(api, other_seats, other_admin, buy):
    buy(other_seats[0], actor=other_admin)
    services.assign_user(other_admin, other_seats[0], other_admin.pk)
    for method, path, body in routes(other_seats[0].pk, other_admin.pk):
        if path.startswith("/seats/"):
            kwargs = {"json": body} if body is not None else {}
            problem(getattr(api, method)(path, **kwargs), 404, "not_found")
    assert PhoneNumber.objects.get().status == "active"
    assert SeatAssignment.objects.filter(user=other_admin).exists()


@pytest.mark.parametrize("seat_id", ["999999", str(2**63), str(10**30)])
def test_unknown_or_huge_seat_ids_are_not_found(api, seats, seat_id):
    problem(api.patch(f"/seats/{seat_id}", json={"monthly_allowance": 1}), 404, "not_found")
    problem(api.delete(f"/seats/{seat_id}/users/{seat_id}"), 404, "not_found")


# --- GET /users seat_id -------------------------------------------------------------------


def test_users_show_their_seat_without_n_plus_one(
    api_as, seats, admin, recruiter, manager, make_user, django_assert_max_num_queries
):
    services.assign_user(admin, seats[0], recruiter.pk)
    services.assign_user(admin, seats[2], manager.pk)
    for i in range(10):
        services.assign_user(
            admin, seats[1], make_user(f"m{i}@acme.test").pk
        ) if i < 3 else make_user(f"m{i}@acme.test")
    client = api_as(recruiter)  # GET /users needs no special permission
    response = client.get("/users")
    assert response.status_code == 200
    seat_of = {u["email"]: u["seat_id"] for u in response.json()["items"]}
    assert seat_of["recruiter1@acme.test"] == seats[0].pk
    assert seat_of["manager@acme.test"] == seats[2].pk
    assert seat_of["admin@acme.test"] is None
    assert [seat_of[f"m{i}@acme.test"] for i in range(4)] == [seats[1].pk] * 3 + [None]
    with django_assert_max_num_queries(6):
        client.get("/users")
