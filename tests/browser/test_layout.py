"""Every page fits a phone and a desktop screen; HIRETEXT_SCREENSHOTS=<dir> keeps pictures."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.data import seed_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("HIRETEXT_SCREENSHOTS")


def shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        wide = page.viewport_size["width"] >= 1000
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=wide)


UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea, button")]
  .filter((el) => el.type !== "hidden")
  .filter((el) => !(el.labels?.length || el.getAttribute("aria-label") || el.textContent.trim()))
  .map((el) => el.outerHTML)"""


def assert_labelled(page, url):
    unlabelled = page.evaluate(UNLABELLED)
    assert unlabelled == [], f"{url}: controls without a label: {unlabelled}"


def assert_fits(page, url):
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{url} scrolls sideways by {overflow}px"


@pytest.mark.parametrize("width", [360, 1280])
def test_pages_fit_the_screen(page, org, recruiter, width):
    seeded = seed_org(org, recruiter)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto("/login/")
    assert_fits(page, "/login/")
    assert_labelled(page, "/login/")
    shot(page, f"login-{width}")
    login(page, "recruiter1@acme.test")
    pages = {
        "pool": "/candidates/",
        "search-empty": "/candidates/?q=nobody-like-this",
        "profile": f"/candidates/{seeded.alex.pk}/",
        "profile-unconsented": f"/candidates/{seeded.bea.pk}/",
        "add-candidate": "/candidates/new/",
        "edit-candidate": f"/candidates/{seeded.alex.pk}/edit/",
        "jobs": "/jobs/",
        "job": f"/jobs/{seeded.job_ids['backend']}/",
        "job-empty": f"/jobs/{seeded.job_ids['nurse']}/",
        "contacts": "/contacts/",
        "contact": f"/contacts/{seeded.nora.pk}/",
        "add-contact": "/contacts/new/",
        "not-found": "/candidates/999999/",
    }
    for name, url in pages.items():
        page.goto(url)
        assert_fits(page, url)
        assert_labelled(page, url)
        nav = page.get_by_role("navigation", name="Main")
        for label in ["Job postings", "Candidates", "Contacts"]:
            expect(nav.get_by_role("link", name=label)).to_be_in_viewport()
        expect(page.locator(".usermenu summary")).to_be_in_viewport()
        shot(page, f"{name}-{width}")

    page.goto("/candidates/new/")
    page.get_by_label("Mobile").fill("12345")
    page.get_by_role("button", name="Add candidate").click()
    expect(page.locator("#id_mobile_error")).to_be_visible()
    assert_fits(page, "/candidates/new/ with errors")
    shot(page, f"form-errors-{width}")

    page.goto("/candidates/")
    page.locator(".usermenu summary").click()
    menu = page.locator(".usermenu .menu-panel")
    expect(menu).to_be_in_viewport(ratio=1)
    shot(page, f"menu-{width}")


def test_phone_layout_labels_each_cell(page, org, recruiter):
    seed_org(org, recruiter)
    page.set_viewport_size({"width": 360, "height": 800})
    login(page, "recruiter1@acme.test")
    row = page.get_by_role("row", name=re.compile("Alex Rivera"))
    mobile_cell = row.locator("td[data-label=Mobile]")
    expect(mobile_cell).to_have_css("display", "grid")
    label = mobile_cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Mobile"'
    expect(page.locator("table thead")).not_to_be_in_viewport()


@pytest.mark.parametrize("width", [320, 1280])
def test_top_bar_has_room_for_bell_chat_and_administration(page, org, admin, width):
    page.set_viewport_size({"width": width, "height": 700})
    login(page, "admin@acme.test")
    tools = page.locator(".topbar-tools")
    assert_fits(page, "top bar with tools")
    expect(tools.get_by_role("link", name="Chats")).to_be_in_viewport()
    expect(tools.locator("summary.bell")).to_be_in_viewport()  # loaded after the page
    admin_menu = page.locator(".adminmenu summary")
    expect(admin_menu).to_have_accessible_name("Administration")
    expect(admin_menu).to_be_in_viewport(ratio=1)
    expect(page.locator(".usermenu summary")).to_be_in_viewport(ratio=1)
    admin_menu.click()
    expect(page.locator(".adminmenu .menu-panel")).to_be_in_viewport(ratio=1)
    shot(page, f"topbar-admin-{width}")
    # Opening the account menu closes the Administration one (a click outside it).
    page.locator(".usermenu summary").click()
    expect(page.locator(".adminmenu .menu-panel")).to_be_hidden()
    expect(page.get_by_role("button", name="Log out")).to_be_in_viewport(ratio=1)
