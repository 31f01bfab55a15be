"""A recruiter's day: pool, search, profile, consent, forms, jobs, contacts, log out."""

import re

import pytest
from playwright.sync_api import expect

from hiretext.ats.models import ActivityEntry, Candidate, ConsentEvent
from tests.browser.conftest import live_search
from tests.browser.data import seed_org, shown_time

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def rows(page):
    return page.locator("#people-rows tr:not(.more):not(:has(td.empty))")


def test_recruiter_journey(page, org, recruiter):
    seeded = seed_org(org, recruiter)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    # Log in with the keyboard only: the e-mail field has focus, Tab to the password, Enter.
    page.goto("/candidates/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/candidates/$"))
    expect(page.get_by_label("E-mail")).to_be_focused()
    page.keyboard.type("recruiter1@acme.test")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("pw-123456")
    page.keyboard.press("Enter")

    # The pool: the first page of 25, the current nav item marked.
    expect(page.get_by_role("heading", name="Candidate pool")).to_be_visible()
    expect(page).to_have_title("Candidates · hiretext")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Candidates")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Job postings")).not_to_have_attribute(
        "aria-current", re.compile(".*")
    )
    expect(rows(page)).to_have_count(25)
    alex_row = page.get_by_role("row", name=re.compile("Alex Rivera"))
    expect(alex_row).to_contain_text("alex.rivera@example.com")
    expect(alex_row).to_contain_text("+1 415 555 0101")
    expect(alex_row).to_contain_text("Consented")
    expect(page.get_by_role("row", name=re.compile("Bea Chen"))).to_contain_text("No consent")

    # "Show more" loads the rest by key and moves the keyboard to the first new row.
    page.get_by_role("link", name="Show more candidates").click()
    expect(rows(page)).to_have_count(seeded.candidate_count)
    expect(page.get_by_role("link", name="Show more candidates")).to_have_count(0)
    expect(page.get_by_role("link", name="Filler30 Zimmer")).to_be_visible()
    expect(page.locator(":focus")).to_have_text("Filler23 Zimmer")

    # Live search as you type: partial name, e-mail, phone digits; no Enter needed.
    search = page.get_by_role("searchbox", name="Search candidates")
    live_search(page, search, "rive", typed=True)
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Alex Rivera")
    expect(page).to_have_url(re.compile(r"/candidates/\?q=rive$"))
    live_search(page, search, "bea.chen@")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Bea Chen")
    live_search(page, search, "(646) 555-01")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Bea Chen")
    live_search(page, search, "zimmer")
    expect(rows(page)).to_have_count(25)
    page.get_by_role("link", name="Show more candidates").click()
    expect(rows(page)).to_have_count(30)
    live_search(page, search, "nobody-like-this")
    expect(page.locator("#people-rows")).to_contain_text("No candidates match “nobody-like-this”")
    live_search(page, search, "alex")
    expect(rows(page)).to_have_count(1)

    # The profile: details, consent badge and history, the activity timeline in the org's zone.
    page.get_by_role("link", name="Alex Rivera").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex Rivera")
    expect(nav.get_by_role("link", name="Candidates")).to_have_attribute("aria-current", "true")
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("alex.rivera@example.com")
    expect(details).to_contain_text("+1 415 555 0101")
    expect(details.get_by_role("link", name="Senior Backend Engineer")).to_be_visible()
    expect(details).to_contain_text("Interview")
    consent = page.get_by_role("region", name="SMS consent")
    expect(consent.locator(".badge")).to_have_text("Consented")
    consent.get_by_text("Consent history (1)").click()
    given = ConsentEvent.objects.get(candidate=seeded.alex)
    history = consent.locator(".history li")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text(shown_time(given.created_at, org.zone))
    expect(history.first).to_contain_text("given · Set by a user · Dana Li")
    expect(history.first).to_contain_text("“Agreed by phone on 3 March”")
    timeline = page.get_by_role("region", name="Activity").locator(".timeline li")
    expect(timeline).to_have_count(3)
    sent = ActivityEntry.objects.get(candidate=seeded.alex, kind="sms_out")
    expect(timeline.first).to_contain_text("SMS sent by Dana Li")
    expect(timeline.first).to_contain_text("are you free for a call tomorrow?")
    stamp = shown_time(sent.created_at, org.zone)
    assert re.search(r" P[SD]T$", stamp), stamp
    expect(timeline.first.locator("time")).to_have_text(stamp)
    expect(timeline.nth(2)).to_contain_text("Record created")

    # Withdraw consent (the reason is optional).
    consent.get_by_role("button", name="Withdraw SMS consent").click()
    expect(page.get_by_role("status")).to_have_text("SMS consent withdrawn.")
    expect(consent.locator(".badge")).to_have_text("No consent")
    consent.get_by_text("Consent history (2)").click()
    expect(consent.locator(".history li").first).to_contain_text("withdrawn · Set by a user")
    assert Candidate.objects.get(pk=seeded.alex.pk).sms_consent is False

    # Recording consent without a note is refused; with a note it is recorded and audited.
    consent.get_by_role("button", name="Record SMS consent").click()
    expect(page.get_by_role("alert")).to_have_text("Add a note saying how the person gave consent.")
    expect(consent.locator(".badge")).to_have_text("No consent")
    assert ConsentEvent.objects.filter(candidate=seeded.alex).count() == 2
    consent.get_by_label("How did they consent?").fill("Confirmed again by e-mail on 4 March")
    consent.get_by_role("button", name="Record SMS consent").click()
    expect(page.get_by_role("status")).to_have_text("SMS consent recorded.")
    expect(consent.locator(".badge")).to_have_text("Consented")
    expect(timeline.first).to_contain_text("SMS consent given (Set by a user) by Dana Li")
    expect(timeline.first).to_contain_text("Confirmed again by e-mail on 4 March")
    assert ConsentEvent.objects.filter(candidate=seeded.alex, granted=True).count() == 2

    # Add a candidate: an invalid phone gives a clear error on the field and saves nothing.
    nav.get_by_role("link", name="Candidates").click()
    page.get_by_role("link", name="Add candidate").click()
    expect(page.get_by_role("heading", name="Add candidate")).to_be_visible()
    page.get_by_label("First name").fill("Gina")
    page.get_by_label("Last name").fill("Park")
    page.get_by_label("E-mail").fill("gina.park@example.com")
    page.get_by_label("Mobile").fill("12345")
    page.get_by_label("They agreed to receive text messages").check()
    page.get_by_label("How they agreed").fill("Signed the consent form at the job fair")
    page.get_by_role("button", name="Add candidate").click()
    mobile = page.get_by_label("Mobile")
    expect(page.locator(".field.has-error")).to_have_count(1)
    expect(page.locator("#id_mobile_error")).to_have_text("“12345” is not a valid phone number.")
    expect(mobile).to_have_attribute("aria-invalid", "true")
    expect(mobile).to_have_accessible_description(re.compile("is not a valid phone number"))
    expect(mobile).to_be_focused()
    expect(page.get_by_label("First name")).to_have_value("Gina")
    expect(page.get_by_label("They agreed to receive text messages")).to_be_checked()
    assert not Candidate.objects.filter(first_name="Gina").exists()
    mobile.fill("+1 (415) 555-0188")
    page.get_by_role("button", name="Add candidate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gina Park")
    expect(page.get_by_role("status")).to_have_text("Gina Park was added.")
    expect(page.get_by_role("region", name="Details")).to_contain_text("+1 415 555 0188")
    expect(page.get_by_role("region", name="SMS consent").locator(".badge")).to_have_text(
        "Consented"
    )

    # Edit.
    page.get_by_role("link", name="Edit Gina Park").click()
    expect(page.get_by_label("Mobile")).to_have_value("+14155550188")
    page.get_by_label("Last name").fill("Park-Lee")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gina Park-Lee")
    expect(page.get_by_role("status")).to_have_text("Changes saved.")

    # Job postings → the detail with applicants and their statuses.
    nav.get_by_role("link", name="Job postings").click()
    expect(nav.get_by_role("link", name="Job postings")).to_have_attribute("aria-current", "page")
    backend_row = page.get_by_role("row", name=re.compile("Senior Backend Engineer"))
    expect(backend_row).to_contain_text("Northwind Traders")
    expect(backend_row).to_contain_text("Open")
    expect(backend_row.locator("td.num")).to_have_text("3")
    expect(page.get_by_role("row", name=re.compile("Night Nurse"))).to_contain_text("Closed")
    page.get_by_role("link", name="Senior Backend Engineer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Senior Backend Engineer")
    expect(page.get_by_text("Hybrid, two days a week in the office.")).to_be_visible()
    applicants = page.get_by_role("table", name=re.compile("Applicants"))
    for name, status in [
        ("Alex Rivera", "Interview"),
        ("Bea Chen", "Applied"),
        ("Carlos Mendes", "Rejected"),
    ]:
        expect(applicants.get_by_role("row", name=re.compile(name))).to_contain_text(status)
    applicants.get_by_role("link", name="Bea Chen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bea Chen")

    # Contacts → a contact's profile.
    nav.get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    nora_row = page.get_by_role("row", name=re.compile("Nora Quinn"))
    expect(nora_row).to_contain_text("Northwind Traders")
    expect(nora_row).to_contain_text("Consented")
    live_search(page, page.get_by_role("searchbox", name="Search contacts"), "northw", typed=True)
    expect(rows(page)).to_have_count(1)
    page.get_by_role("link", name="Nora Quinn").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nora Quinn")
    expect(page.get_by_role("region", name="Details")).to_contain_text(
        "Northwind Traders · Engineering Manager"
    )
    expect(nav.get_by_role("link", name="Contacts")).to_have_attribute("aria-current", "true")

    # Log out: back on the login page, and the pages ask to log in again.
    page.get_by_text("Dana Li", exact=True).click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto("/candidates/")
    expect(page).to_have_url(re.compile(r"/login/"))
    assert dialogs == []
