import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_lands_on_candidate_pool(page, recruiter):
    login(page, "recruiter1@acme.test")
    expect(page.get_by_role("heading", name="Candidate pool")).to_be_visible()


def test_wrong_password_shows_an_error(page, recruiter):
    page.goto("/login/")
    page.get_by_label("E-mail").fill("recruiter1@acme.test")
    page.get_by_label("Password").fill("nope")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct")
