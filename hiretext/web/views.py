"""Pages: parse, access, call one service, render."""

import copy
from typing import Any

from django.contrib import messages
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hiretext.accounts.models import User
from hiretext.ats import queries, services
from hiretext.ats.forms import CandidateForm, ConsentForm, ContactForm
from hiretext.ats.models import Candidate, ConsentEvent, Contact
from hiretext.lib.errors import DomainError
from hiretext.web.decorators import page


def me(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for load balancers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok", "database": "ok"})
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)


def api_docs_redirect(request: HttpRequest) -> HttpResponseRedirect:
    return redirect("/api/v1/docs")


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    user = me(request)
    for perm, target in [
        ("view_candidate_pool_page", "candidate-pool"),
        ("view_job_postings_page", "job-list"),
        ("view_contacts_page", "contact-list"),
    ]:
        if user.has_perm(f"accounts.{perm}"):
            return redirect(target)
    return render(request, "web/forbidden.html", status=403)


@page("view_job_postings_page")
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = (
        queries.list_jobs(me(request))
        .select_related("company")
        .annotate(applicant_count=Count("applications"))
    )
    return render(request, "web/job_list.html", {"jobs": jobs})


@page("view_job_postings_page")
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = queries.access_job(me(request), job_id)
    applications = job.applications.select_related("candidate").order_by(
        "candidate__last_name", "candidate__first_name", "id"
    )
    return render(request, "web/job_detail.html", {"job": job, "applications": applications})


def _people_page(request: HttpRequest, search: Any, template: str, partial: str) -> HttpResponse:
    q = request.GET.get("q", "")[:100]
    cursor = request.GET.get("cursor") or None
    try:
        people, next_cursor = search(me(request), q, cursor)
    except DomainError:
        # A stale or hand-edited "Show more" link: start again from the first page.
        if not request.htmx:  # type: ignore[attr-defined]
            messages.warning(request, "That page link is no longer valid; showing the first page.")
        cursor = None
        people, next_cursor = search(me(request), q, None)
    context = {"people": people, "next_cursor": next_cursor, "q": q, "cursor": cursor}
    response = render(request, partial if request.htmx else template, context)  # type: ignore[attr-defined]
    # The same URL answers rows to htmx and a page otherwise: caches (and Back) must not mix them.
    patch_vary_headers(response, ["HX-Request"])
    return response


@page("view_candidate_pool_page")
def candidate_pool(request: HttpRequest) -> HttpResponse:
    return _people_page(
        request, queries.search_candidates, "web/candidate_pool.html", "web/_candidate_rows.html"
    )


@page("view_contacts_page")
def contact_list(request: HttpRequest) -> HttpResponse:
    return _people_page(
        request, queries.search_contacts, "web/contact_list.html", "web/_contact_rows.html"
    )


@page("view_candidate_profile_page")
def candidate_profile(request: HttpRequest, candidate_id: int) -> HttpResponse:
    person = queries.access_candidate(me(request), candidate_id)
    return _profile(request, person)


@page("view_contacts_page")
def contact_profile(request: HttpRequest, contact_id: int) -> HttpResponse:
    person = queries.access_contact(me(request), contact_id)
    return _profile(request, person)


def _profile(request: HttpRequest, person: Candidate | Contact) -> HttpResponse:
    is_candidate = isinstance(person, Candidate)
    context = {
        "person": person,
        "is_candidate": is_candidate,
        "timeline": queries.timeline(person),
        "consent_events": person.consentevent_set.select_related("actor").order_by(
            "-created_at", "-id"
        )[:50],
        "applications": (
            person.applications.select_related("job").order_by("-applied_at")
            if isinstance(person, Candidate)
            else []
        ),
        "consent_form": ConsentForm(),
    }
    return render(request, "web/profile.html", context)


def _edit(
    request: HttpRequest,
    model: type[Candidate] | type[Contact],
    person: Candidate | Contact | None,
) -> HttpResponse:
    user = me(request)
    org = user.organization
    assert org is not None
    form_class = ContactForm if model is Contact else CandidateForm
    form = form_class(instance=person)
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in form_class.base_fields}
        try:
            if person is None:
                consent = request.POST.get("sms_consent") == "on"
                saved = services.create_person(
                    model,
                    org,
                    user,
                    data,
                    sms_consent=consent,
                    consent_note=request.POST.get("consent_note", ""),
                )
                messages.success(request, f"{saved.full_name} was added.")
            else:
                saved = services.update_person(person, user, data)
                messages.success(request, "Changes saved.")
            name = "contact-profile" if model is Contact else "candidate-profile"
            return redirect(reverse(name, args=[saved.pk]))
        except DomainError as exc:
            if person is not None:
                # Validation writes the refused values onto the instance it checks: show the
                # saved record, and check the form against a copy of it.
                person.refresh_from_db()
            form = form_class(data=data, instance=copy.copy(person))
            form.is_valid()
            if not form.errors:
                form.add_error(None, exc.message)
    return render(
        request,
        "web/person_form.html",
        {"form": form, "person": person, "is_candidate": model is Candidate},
        status=400 if request.method == "POST" else 200,
    )


@page("view_candidate_pool_page", "edit_people")
@require_http_methods(["GET", "POST"])
def candidate_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, Candidate, None)


@page("view_candidate_profile_page", "edit_people")
@require_http_methods(["GET", "POST"])
def candidate_edit(request: HttpRequest, candidate_id: int) -> HttpResponse:
    return _edit(request, Candidate, queries.access_candidate(me(request), candidate_id))


@page("view_contacts_page", "edit_people")
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, Contact, None)


@page("view_contacts_page", "edit_people")
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    return _edit(request, Contact, queries.access_contact(me(request), contact_id))


def _consent(request: HttpRequest, person: Candidate | Contact, back: str) -> HttpResponse:
    form = ConsentForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        messages.error(request, f"{field.capitalize()}: {errors[0]}")
        return redirect(reverse(back, args=[person.pk]))
    granted = form.cleaned_data["granted"]
    try:
        services.set_consent(
            person,
            granted,
            source=ConsentEvent.Source.USER,
            note=form.cleaned_data["note"],
            actor=me(request),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "SMS consent recorded." if granted else "SMS consent withdrawn.")
    return redirect(reverse(back, args=[person.pk]))


@page("view_candidate_profile_page", "edit_people")
@require_POST
def candidate_consent(request: HttpRequest, candidate_id: int) -> HttpResponse:
    person = queries.access_candidate(me(request), candidate_id)
    return _consent(request, person, "candidate-profile")


@page("view_contacts_page", "edit_people")
@require_POST
def contact_consent(request: HttpRequest, contact_id: int) -> HttpResponse:
    person = queries.access_contact(me(request), contact_id)
    return _consent(request, person, "contact-profile")
