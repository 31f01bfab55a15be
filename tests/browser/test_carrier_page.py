import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.mocks.twilio_api import ACCOUNT_SID, AUTH_TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_connects_twilio_with_the_keyboard(page, admin, twilio_settings):
    login(page, "admin@acme.test")
    page.get_by_text("Administration").click()
    page.get_by_role("link", name="Carrier").click()
    expect(page.get_by_role("heading", name="Carrier", exact=True)).to_be_visible()
    expect(page.get_by_test_id("carrier-now")).to_contain_text("simulator")

    page.get_by_label("Twilio (your own account)").focus()
    page.keyboard.press("Space")
    page.get_by_label("Account SID").fill(ACCOUNT_SID)
    page.get_by_label("Auth token").fill(AUTH_TOKEN)
    page.get_by_label("Auth token").press("Enter")  # submits the form

    expect(page.get_by_role("status").first).to_contain_text("Carrier settings saved.")
    expect(page.get_by_test_id("carrier-now")).to_contain_text(ACCOUNT_SID)
    expect(page.get_by_label("Auth token")).to_have_value("")
    assert AUTH_TOKEN not in page.content()

    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_test_id("check-result")).to_contain_text("Connected to the Twilio account")


def test_wrong_sid_is_explained_next_to_the_field(page, admin):
    login(page, "admin@acme.test")
    page.goto("/admin/carrier/")
    page.get_by_label("Twilio (your own account)").check()
    page.get_by_label("Account SID").fill("AC123")
    page.get_by_label("Auth token").fill(AUTH_TOKEN)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#id_account_sid_error")).to_have_text(
        "An account SID is AC followed by 32 hexadecimal digits."
    )
