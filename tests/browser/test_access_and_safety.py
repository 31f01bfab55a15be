"""Who sees what, hostile names, keyboard-only use, and the history of live search."""

import re

import pytest
from playwright.sync_api import expect

from hiretext.accounts.models import Role
from hiretext.ats import services
from hiretext.ats.models import Candidate, ConsentEvent, Contact
from tests.browser.conftest import live_search, login
from tests.browser.data import seed_org
from tests.factories import JobPostingFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = "<script>alert(1)</script>"


def test_hiring_manager_reads_but_cannot_edit(page, org, recruiter, manager):
    seeded = seed_org(org, recruiter)
    login(page, "manager@acme.test")

    expect(page.get_by_role("heading", name="Candidate pool")).to_be_visible()
    expect(page.get_by_role("link", name="Alex Rivera")).to_be_visible()
    expect(page.get_by_role("link", name="Add candidate")).to_have_count(0)

    page.get_by_role("link", name="Alex Rivera").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex Rivera")
    expect(page.get_by_role("region", name="SMS consent").locator(".badge")).to_have_text(
        "Consented"
    )
    expect(page.get_by_role("link", name=re.compile("^Edit"))).to_have_count(0)
    expect(page.get_by_role("button", name="Withdraw SMS consent")).to_have_count(0)

    page.goto("/contacts/")
    expect(page.get_by_role("link", name="Nora Quinn")).to_be_visible()
    expect(page.get_by_role("link", name="Add contact")).to_have_count(0)

    for url in [
        "/candidates/new/",
        f"/candidates/{seeded.alex.pk}/edit/",
        "/contacts/new/",
        f"/contacts/{seeded.nora.pk}/edit/",
    ]:
        response = page.goto(url)
        assert response.status == 403, url
        expect(
            page.get_by_role("heading", name="You don't have access to this page")
        ).to_be_visible()
        expect(page.locator("form input[name=first_name]")).to_have_count(0)

    # A forged consent POST (the manager has no edit permission) changes nothing.
    token = page.context.cookies()
    csrf = next(c["value"] for c in token if c["name"] == "csrftoken")
    response = page.request.post(
        f"/candidates/{seeded.alex.pk}/consent/",
        form={"granted": "", "note": "sneaky"},
        headers={"X-CSRFToken": csrf},
    )
    assert response.status == 403
    assert Candidate.objects.get(pk=seeded.alex.pk).sms_consent is True


def test_a_user_without_roles_gets_no_access_page(page, nobody):
    login(page, "nobody@acme.test")
    expect(page.get_by_role("heading", name="You don't have access to this page")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_count(0)


def test_another_organisations_records_are_not_found(page, org, other_org, recruiter):
    theirs = services.create_person(
        Candidate, other_org, None, {"first_name": "Quinn", "last_name": "Beacon"}
    )
    their_contact = services.create_person(
        Contact, other_org, None, {"first_name": "Pat", "last_name": "Other"}
    )
    their_job = JobPostingFactory(organization=other_org, title="Account Executive")
    login(page, "recruiter1@acme.test")

    for url in [
        f"/candidates/{theirs.pk}/",
        f"/candidates/{theirs.pk}/edit/",
        f"/contacts/{their_contact.pk}/",
        f"/jobs/{their_job.pk}/",
        "/candidates/999999/",
    ]:
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        expect(page.get_by_text("Quinn")).to_have_count(0)

    page.goto("/candidates/")
    expect(page.locator("#people-rows")).to_contain_text("No candidates yet.")
    page.goto("/jobs/")
    expect(page.get_by_text("Account Executive")).to_have_count(0)


def test_hostile_names_and_notes_render_as_text(page, org, recruiter):
    hostile = services.create_person(
        Candidate,
        org,
        recruiter,
        {"first_name": HOSTILE, "last_name": '"><img src=x onerror=alert(2)>', "email": ""},
        sms_consent=True,
        consent_note="<img src=x onerror=alert(3)>",
    )
    contact = services.create_person(
        Contact,
        org,
        recruiter,
        {"first_name": HOSTILE, "company_name": "<b onmouseover=alert(4)>Evil</b>"},
    )
    job = JobPostingFactory(organization=org, title=HOSTILE, description=HOSTILE)
    from tests.factories import ApplicationFactory

    ApplicationFactory(organization=org, candidate=hostile, job=job)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, "recruiter1@acme.test")
    full_name = f'{HOSTILE} "><img src=x onerror=alert(2)>'

    expect(page.get_by_role("link", name=full_name)).to_be_visible()
    box = page.get_by_role("searchbox", name="Search candidates")
    live_search(page, box, "nobody-like-this")
    expect(page.locator("#people-rows tr")).to_have_text(re.compile("No candidates match"))
    live_search(page, box, HOSTILE)
    expect(page.locator("#people-rows tr")).to_have_count(1)
    live_search(page, box, '"><svg onload=alert(5)>')
    expect(page.locator("#people-rows")).to_contain_text('No candidates match “"><svg onload')
    page.goto('/candidates/?q="><svg onload=alert(6)>')
    expect(page.get_by_role("searchbox", name="Search candidates")).to_have_value(
        '"><svg onload=alert(6)>'
    )

    page.goto(f"/candidates/{hostile.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(full_name)
    expect(page).to_have_title(f"{full_name} · hiretext")
    page.get_by_text("Consent history (1)").click()
    expect(page.locator(".history")).to_contain_text("<img src=x onerror=alert(3)>")
    page.goto(f"/candidates/{hostile.pk}/edit/")
    expect(page.get_by_label("First name")).to_have_value(HOSTILE)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Changes saved.")
    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE)
    expect(page.get_by_role("link", name=full_name)).to_be_visible()
    page.goto(f"/contacts/{contact.pk}/")
    expect(page.get_by_role("region", name="Details")).to_contain_text(
        "<b onmouseover=alert(4)>Evil</b>"
    )
    page.goto("/contacts/")
    page.get_by_text("<b onmouseover=alert(4)>Evil</b>").hover()

    assert page.locator("img[src=x], svg[onload], b[onmouseover]").count() == 0
    assert dialogs == []
    assert Candidate.objects.get(pk=hostile.pk).first_name == HOSTILE


def focus_by_tab(page, selector, limit=40):
    """Press Tab until `selector` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_search_and_consent_with_the_keyboard_only(page, org, recruiter):
    seeded = seed_org(org, recruiter)
    login(page, "recruiter1@acme.test")

    focus_by_tab(page, "#q")
    page.keyboard.type("chen")
    page.keyboard.press("Enter")
    expect(page.locator("#people-rows tr")).to_have_count(1)
    focus_by_tab(page, "#people-rows a")
    expect(page.locator(":focus")).to_have_text("Bea Chen")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bea Chen")

    # Enter without a note is refused; typing the note and Enter records it.
    focus_by_tab(page, "#consent-note")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Add a note saying how the person gave consent.")
    focus_by_tab(page, "#consent-note")
    page.keyboard.type("Agreed on a call")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("SMS consent recorded.")
    event = ConsentEvent.objects.get(candidate=seeded.bea)
    assert (event.granted, event.note, event.actor) == (True, "Agreed on a call", recruiter)

    # The account menu opens with Enter and closes with Escape.
    focus_by_tab(page, ".usermenu summary")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    expect(page.locator(".usermenu summary")).to_be_focused()


def test_back_after_a_search_shows_the_whole_page(page, org, recruiter):
    seed_org(org, recruiter)
    login(page, "recruiter1@acme.test")
    live_search(page, page.get_by_role("searchbox", name="Search candidates"), "rivera", typed=True)
    expect(page).to_have_url(re.compile(r"\?q=rivera$"))
    page.get_by_role("link", name="Alex Rivera").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex Rivera")
    page.go_back()
    expect(page.get_by_role("heading", name="Candidate pool")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search candidates")).to_have_value("rivera")
    expect(page.locator("#people-rows tr")).to_have_count(1)
    page.reload()
    expect(page.get_by_role("heading", name="Candidate pool")).to_be_visible()


def test_empty_organisation_shows_friendly_empty_states(page, org, recruiter, make_user):
    make_user("manager2@acme.test", Role.HIRING_MANAGER)
    login(page, "recruiter1@acme.test")
    expect(page.locator("#people-rows")).to_have_text("No candidates yet. Add the first one.")
    page.get_by_role("link", name="Add the first one").click()
    expect(page.get_by_role("heading", name="Add candidate")).to_be_visible()
    page.goto("/contacts/")
    expect(page.locator("#people-rows")).to_have_text("No contacts yet. Add the first one.")
    page.goto("/jobs/")
    expect(page.get_by_text("No job postings yet.")).to_be_visible()
    job = JobPostingFactory(organization=org, title="Fresh Job")
    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_text("No one has applied yet.")).to_be_visible()
    person = services.create_person(Candidate, org, None, {"first_name": "Solo"})
    page.goto(f"/candidates/{person.pk}/")
    expect(page.get_by_text("No mobile number on file.")).to_be_visible()
    expect(page.get_by_text("No applications.")).to_be_visible()
    page.get_by_text("Consent history (0)").click()
    expect(page.get_by_text("No consent recorded.")).to_be_visible()


def test_add_contact_needs_a_note_when_consent_is_ticked(page, org, recruiter):
    login(page, "recruiter1@acme.test")
    page.goto("/contacts/")
    page.get_by_role("link", name="Add contact").click()
    page.get_by_label("First name").fill("Omar")
    page.get_by_label("Last name").fill("Haddad")
    page.get_by_label("Mobile").fill("312.555.0112")
    page.get_by_label("Job title").fill("Operations Director")
    page.get_by_label("Company").fill("Contoso Logistics")
    page.get_by_label("They agreed to receive text messages").check()
    page.get_by_role("button", name="Add contact").click()
    expect(page.get_by_role("alert")).to_have_text("Add a note saying how the person gave consent.")
    assert not Contact.objects.filter(first_name="Omar").exists()
    expect(page.get_by_label("Company")).to_have_value("Contoso Logistics")
    page.get_by_label("How they agreed").fill("Asked us to text him")
    page.get_by_role("button", name="Add contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Omar Haddad")
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("Contoso Logistics · Operations Director")
    expect(details).to_contain_text("+1 312 555 0112")
    expect(page.get_by_role("region", name="SMS consent").locator(".badge")).to_have_text(
        "Consented"
    )
    page.get_by_role("link", name="← Contacts").click()
    row = page.get_by_role("row", name=re.compile("Omar Haddad"))
    expect(row).to_contain_text("Contoso Logistics")
    expect(row).to_contain_text("Operations Director")
