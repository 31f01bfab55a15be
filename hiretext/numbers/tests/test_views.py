from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from hiretext.numbers import services
from hiretext.numbers.models import PhoneNumber, SeatAssignment, TermsAcceptance

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"numbers:{name}", args=args)


def flashes(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def as_admin(client, admin):
    client.force_login(admin)
    return client


# --- access ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["recruiter", "manager", "nobody"])
def test_pages_need_manage_text_messaging(client, request, seats, buy, admin, who):
    user = request.getfixturevalue(who)
    buy(seats[0])
    services.assign_user(admin, seats[0], admin.pk)
    client.force_login(user)
    pages = [
        ("get", url("seats")),
        ("get", url("auto", seats[1].pk) + "?area_code=415"),
        ("get", url("choose", seats[1].pk) + "?area_code=415"),
        ("get", url("confirm", seats[1].pk) + "?mode=auto&area_code=415&e164=%2B14155550150"),
        ("post", url("confirm", seats[1].pk)),
        ("get", url("release", seats[0].pk)),
        ("post", url("release", seats[0].pk)),
        ("get", url("assign", seats[0].pk)),
        ("post", url("assign", seats[0].pk)),
        ("get", url("remove-user", seats[0].pk, admin.pk)),
        ("post", url("remove-user", seats[0].pk, admin.pk)),
    ]
    for method, path in pages:
        response = getattr(client, method)(
            path,
            {
                "mode": "choose",
                "area_code": "415",
                "e164": "+14155550150",
                "terms_accepted": "on",
                "user_ids": [user.pk],
            }
            if method == "post"
            else None,
        )
        assert response.status_code == 403, path
    assert PhoneNumber.objects.filter(status="active").count() == 1
    assert list(SeatAssignment.objects.values_list("user_id", flat=True)) == [admin.pk]
    # ...and the Administration menu does not offer the page.
    assert b"Text Messaging Numbers" not in client.get("/").content


def test_anonymous_is_sent_to_login(client, seats):
    response = client.get(url("seats"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_admin_menu_links_to_the_page(as_admin, seats):
    response = as_admin.get(url("seats"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{url("seats")}">Text Messaging Numbers</a>' in html


def test_other_organisations_seats_are_404(as_admin, other_seats, other_admin, buy):
    buy(other_seats[0], actor=other_admin)
    services.assign_user(other_admin, other_seats[0], other_admin.pk)
    sid = other_seats[0].pk
    for path in [
        url("auto", other_seats[1].pk),
        url("choose", other_seats[1].pk),
        url("confirm", other_seats[1].pk),
        url("release", sid),
        url("assign", sid),
        url("remove-user", sid, other_admin.pk),
    ]:
        assert as_admin.get(path).status_code == 404, path
        assert as_admin.post(path).status_code in (404, 405), path  # 405: GET-only steps
    assert PhoneNumber.objects.get().status == "active"
    assert SeatAssignment.objects.filter(user=other_admin).exists()


# --- the seats page ----------------------------------------------------------------------


def test_seats_page_shows_numbers_users_and_allowance(as_admin, seats, buy, admin, recruiter):
    buy(seats[0], e164="+14155550142")
    services.assign_user(admin, seats[0], recruiter.pk)
    html = as_admin.get(url("seats")).content.decode()
    assert html.count('class="card seat"') == 3
    assert "+1 415 555 0142" in html
    assert "Dana Li" in html
    assert "250 / 250</strong> left this month" in html
    assert 'aria-label="Remove Dana Li"' in html
    assert html.count("Auto Assign Number") == 2  # the two seats without a number
    assert html.count("Choose Number") == 2


def test_seats_page_empty_state(as_admin, org, admin):
    assert "no seats yet" in as_admin.get(url("seats")).content.decode()


def test_user_names_are_escaped(as_admin, seats, admin, make_user):
    user = make_user("x@acme.test", first="<script>alert(1)</script>", last="&")
    services.assign_user(admin, seats[0], user.pk)
    html = as_admin.get(url("seats")).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- Auto Assign Number --------------------------------------------------------------------


def test_auto_flow(as_admin, seats, admin):
    page = as_admin.get(url("auto", seats[0].pk))
    assert page.status_code == 200 and b"Generate Number" in page.content
    response = as_admin.get(url("auto", seats[0].pk), {"area_code": "415"})
    assert response.status_code == 302
    query = parse_qs(urlparse(response["Location"]).query)
    e164 = query["e164"][0]
    assert query["mode"] == ["auto"] and e164.startswith("+14155550")
    confirm = as_admin.get(response["Location"])
    html = confirm.content.decode()
    assert "$5.00 / month" in html and "Complete Setup" in html
    assert services.terms_text(e164, 500, 250) in html
    assert not PhoneNumber.objects.exists()  # nothing is bought before Complete Setup
    # Without the ticked terms: refused, nothing bought.
    data = {"mode": "auto", "area_code": "415", "e164": e164}
    refused = as_admin.post(url("confirm", seats[0].pk), data)
    assert refused.status_code == 400
    assert "agree to the monthly terms" in refused.content.decode()
    assert not PhoneNumber.objects.exists()
    done = as_admin.post(url("confirm", seats[0].pk), {**data, "terms_accepted": "on"}, follow=True)
    assert PhoneNumber.objects.get().e164 == e164
    assert TermsAcceptance.objects.get().accepted_by == admin
    assert any("is set up for Seat 1" in m for m in flashes(done))


def test_auto_offers_another_number_when_the_proposed_one_was_taken(
    as_admin, seats, other_seats, other_admin, buy
):
    buy(other_seats[0], e164="+14155550150", actor=other_admin)
    data = {"mode": "auto", "area_code": "415", "e164": "+14155550150", "terms_accepted": "on"}
    response = as_admin.post(url("confirm", seats[0].pk), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "no longer available" in html and "Here is another available number" in html
    assert response.context["e164"] != "+14155550150"
    assert not PhoneNumber.objects.filter(seat=seats[0]).exists()


@pytest.mark.parametrize("area_code", ["", "41", "4155", "abc", "9" * 5000, "<b>"])
def test_auto_area_code_must_be_3_digits(as_admin, seats, area_code):
    response = as_admin.get(url("auto", seats[0].pk), {"area_code": area_code})
    assert response.status_code == 400
    assert "3-digit area code" in response.content.decode()


def test_auto_unknown_area_code(as_admin, seats):
    response = as_admin.get(url("auto", seats[0].pk), {"area_code": "111"})
    assert response.status_code == 400
    assert "No numbers are available in area code 111" in response.content.decode()


def test_seat_with_number_goes_back_to_the_list(as_admin, seats, buy):
    buy(seats[0])
    for path in [url("auto", seats[0].pk), url("choose", seats[0].pk), url("confirm", seats[0].pk)]:
        response = as_admin.get(path, follow=True)
        assert response.redirect_chain[-1][0] == url("seats")
        assert any("already has the number" in m for m in flashes(response))


# --- Choose Number --------------------------------------------------------------------------


def test_choose_flow_with_htmx_list(as_admin, seats, admin):
    partial = as_admin.get(
        url("choose", seats[0].pk), {"area_code": "212"}, headers={"HX-Request": "true"}
    )
    html = partial.content.decode()
    assert "<html" not in html
    assert html.count('type="radio"') == 20
    assert "Available numbers in area code 212" in html
    full = as_admin.get(url("choose", seats[0].pk), {"area_code": "212"})
    assert "<html" in full.content.decode() and full.content.decode().count('type="radio"') == 20
    e164 = partial.context["available"][3].e164
    confirm = as_admin.get(
        url("confirm", seats[0].pk), {"mode": "choose", "area_code": "212", "e164": e164}
    )
    assert confirm.status_code == 200
    data = {"mode": "choose", "area_code": "212", "e164": e164, "terms_accepted": "on"}
    as_admin.post(url("confirm", seats[0].pk), data)
    assert PhoneNumber.objects.get(seat=seats[0]).e164 == e164


def test_choose_htmx_errors_render_in_the_list(as_admin, seats):
    response = as_admin.get(
        url("choose", seats[0].pk), {"area_code": "12"}, headers={"HX-Request": "true"}
    )
    assert 'role="alert"' in response.content.decode()
    assert "3-digit area code" in response.content.decode()


def test_choose_empty_area_code_says_so(as_admin, seats):
    response = as_admin.get(url("choose", seats[0].pk), {"area_code": "999"})
    assert "No numbers are available in area code 999" in response.content.decode()


def test_choose_taken_number_goes_back_to_the_list(as_admin, seats, other_seats, other_admin, buy):
    buy(other_seats[0], e164="+14155550150", actor=other_admin)
    data = {"mode": "choose", "area_code": "415", "e164": "+14155550150", "terms_accepted": "on"}
    response = as_admin.post(url("confirm", seats[0].pk), data, follow=True)
    assert response.redirect_chain[-1][0] == url("choose", seats[0].pk) + "?area_code=415"
    assert any("+1 415 555 0150 is no longer available" in m for m in flashes(response))


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"mode": "choose", "area_code": "415"},
        {"mode": "other", "area_code": "415", "e164": "+14155550150"},
        {"mode": "choose", "area_code": "4155", "e164": "+14155550150"},
        {"mode": "choose", "area_code": "415", "e164": "+1415555015" + "0" * 5000},
        {"mode": "choose", "area_code": "415", "e164": "<script>"},
    ],
)
def test_confirm_rejects_tampered_input(as_admin, seats, data):
    response = as_admin.post(
        url("confirm", seats[0].pk), {**data, "terms_accepted": "on"}, follow=True
    )
    assert any("Pick a number first" in m for m in flashes(response))
    assert not PhoneNumber.objects.exists()


def test_confirm_number_outside_the_area_code(as_admin, seats):
    data = {"mode": "choose", "area_code": "415", "e164": "+12125550150", "terms_accepted": "on"}
    response = as_admin.post(url("confirm", seats[0].pk), data, follow=True)
    assert any("not in area code 415" in m for m in flashes(response))
    assert not PhoneNumber.objects.exists()


# --- release ------------------------------------------------------------------------------


def test_release_with_confirmation(as_admin, seats, buy):
    buy(seats[0], e164="+14155550142")
    page = as_admin.get(url("release", seats[0].pk))
    assert "Release +1 415 555 0142?" in page.content.decode()
    assert PhoneNumber.objects.get().status == "active"  # looking is not releasing
    response = as_admin.post(url("release", seats[0].pk), follow=True)
    assert PhoneNumber.objects.get().status == "released"
    assert any("was released; its monthly charge stops" in m for m in flashes(response))
    again = as_admin.post(url("release", seats[0].pk), follow=True)
    assert any("has no number to release" in m for m in flashes(again))


# --- assign and remove --------------------------------------------------------------------


def test_assign_page_search_and_assign_several(as_admin, seats, buy, admin, make_user):
    buy(seats[0], e164="+14155550142")
    dana = make_user("dana@acme.test", first="Dana", last="Li")
    sam = make_user("sam@acme.test", first="Sam", last="Ortiz")
    page = as_admin.get(url("assign", seats[0].pk))
    assert "Dana Li" in page.content.decode() and "Sam Ortiz" in page.content.decode()
    partial = as_admin.get(
        url("assign", seats[0].pk), {"q": "ortiz"}, headers={"HX-Request": "true"}
    )
    assert "Sam Ortiz" in partial.content.decode() and "Dana Li" not in partial.content.decode()
    assert "<html" not in partial.content.decode()
    response = as_admin.post(
        url("assign", seats[0].pk), {"user_ids": [dana.pk, sam.pk]}, follow=True
    )
    assert any("Dana Li, Sam Ortiz assigned to +1 415 555 0142" in m for m in flashes(response))
    assert set(SeatAssignment.objects.values_list("user_id", flat=True)) == {dana.pk, sam.pk}
    after = as_admin.get(url("assign", seats[0].pk)).content.decode()
    assert "Dana Li" not in after  # no longer available


def test_ticked_users_stay_ticked_across_searches(as_admin, seats, make_user):
    dana = make_user("dana@acme.test", first="Dana", last="Li")
    make_user("sam@acme.test", first="Sam", last="Ortiz")
    hx = {"HX-Request": "true"}
    junk = as_admin.get(
        url("assign", seats[0].pk), {"q": "ortiz", "user_ids": [dana.pk, "junk"]}, headers=hx
    )
    assert "Sam Ortiz" in junk.content.decode()
    assert "Dana Li" not in junk.content.decode()  # a hostile ticked list is ignored, no error
    html = as_admin.get(
        url("assign", seats[0].pk), {"q": "ortiz", "user_ids": [dana.pk]}, headers=hx
    ).content.decode()
    assert f'value="{dana.pk}" checked' in html
    assert html.index("Dana Li") < html.index("Sam Ortiz")
    assert html.count("Dana Li") == 1


def test_assign_refusals_are_flash_messages(as_admin, seats, buy, admin, recruiter, make_user):
    buy(seats[0], e164="+14155550142")
    services.assign_user(admin, seats[0], recruiter.pk)
    response = as_admin.post(url("assign", seats[1].pk), {"user_ids": [recruiter.pk]})
    assert response.status_code == 400
    assert "Dana Li is already assigned to +1 415 555 0142." in flashes(response)
    services.assign_users(admin, seats[0], [make_user(f"z{i}@acme.test").pk for i in range(2)])
    late = make_user("late@acme.test")
    response = as_admin.post(url("assign", seats[0].pk), {"user_ids": [late.pk]})
    assert "This number already has 3 users." in flashes(response)
    assert not SeatAssignment.objects.filter(user=late).exists()


@pytest.mark.parametrize(
    "ids", [[], ["abc"], ["-1"], ["1" * 40], [str(i) for i in range(1, 30)], ["1e3"]]
)
def test_assign_rejects_hostile_ids(as_admin, seats, ids):
    response = as_admin.post(url("assign", seats[0].pk), {"user_ids": ids})
    assert response.status_code == 400
    assert flashes(response)
    assert not SeatAssignment.objects.exists()


def test_assign_unknown_user(as_admin, seats, other_admin):
    response = as_admin.post(url("assign", seats[0].pk), {"user_ids": [other_admin.pk]})
    assert "No such user." in flashes(response)
    assert not SeatAssignment.objects.exists()


def test_remove_user_with_confirmation(as_admin, seats, buy, admin, recruiter):
    buy(seats[0], e164="+14155550142")
    services.assign_user(admin, seats[0], recruiter.pk)
    page = as_admin.get(url("remove-user", seats[0].pk, recruiter.pk))
    assert "Remove Dana Li?" in page.content.decode()
    assert SeatAssignment.objects.exists()
    response = as_admin.post(url("remove-user", seats[0].pk, recruiter.pk), follow=True)
    assert "Dana Li was removed from +1 415 555 0142." in flashes(response)
    assert not SeatAssignment.objects.exists()
    assert as_admin.post(url("remove-user", seats[0].pk, recruiter.pk)).status_code == 404
