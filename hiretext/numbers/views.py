"""The Text Messaging Numbers page (Administration): parse, access, call one service, render."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from hiretext.accounts.models import Organization, User
from hiretext.lib.errors import DomainError, NotFound
from hiretext.lib.phones import format_phone
from hiretext.numbers import queries, services
from hiretext.numbers.forms import AreaCodeForm, ConfirmForm, parse_user_ids
from hiretext.numbers.models import Seat
from hiretext.web.decorators import page

PERM = "manage_text_messaging"


def _me(request: HttpRequest) -> tuple[User, Organization]:
    user = request.user
    assert isinstance(user, User) and user.organization is not None
    return user, user.organization


def _back() -> HttpResponse:
    return redirect("numbers:seats")


def _empty_seat(request: HttpRequest, seat_id: int) -> Seat | None:
    """The seat if it still has no number; otherwise say so (flash) and return None."""
    user, _ = _me(request)
    seat = queries.access_seat(user, seat_id)
    row = queries.seat_row(seat)
    if row.number is not None:
        messages.error(request, f"{seat} already has the number {format_phone(row.number.e164)}.")
        return None
    return seat


@page(PERM)
@require_GET
def seats(request: HttpRequest) -> HttpResponse:
    _, org = _me(request)
    rows = queries.seat_rows(org, list(queries.list_seats(org)))
    return render(request, "numbers/seats.html", {"rows": rows})


@page(PERM)
@require_GET
def auto(request: HttpRequest, seat_id: int) -> HttpResponse:
    """Auto Assign Number: an area code in, a random available number to confirm out."""
    _, org = _me(request)
    seat = _empty_seat(request, seat_id)
    if seat is None:
        return _back()
    form = AreaCodeForm(request.GET if "area_code" in request.GET else None)
    if form.is_valid():
        area_code = form.cleaned_data["area_code"]
        try:
            e164 = services.propose_number(org, area_code)
        except DomainError as exc:
            form.add_error("area_code", exc.message)
        else:
            query = urlencode({"mode": "auto", "area_code": area_code, "e164": e164})
            return redirect(reverse("numbers:confirm", args=[seat.pk]) + "?" + query)
    return render(
        request,
        "numbers/auto.html",
        {"seat": seat, "form": form},
        status=400 if form.errors else 200,
    )


@page(PERM)
@require_GET
def choose(request: HttpRequest, seat_id: int) -> HttpResponse:
    """Choose Number: an area code in, the available numbers to pick from out (htmx: the list)."""
    _, org = _me(request)
    seat = _empty_seat(request, seat_id)
    if seat is None:
        return _back()
    form = AreaCodeForm(request.GET if "area_code" in request.GET else None)
    available = None
    if form.is_valid():
        try:
            available = queries.available_numbers(org, form.cleaned_data["area_code"])
        except DomainError as exc:
            form.add_error("area_code", exc.message)
    context = {"seat": seat, "form": form, "available": available}
    template = "numbers/_available.html" if request.htmx else "numbers/choose.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@page(PERM)
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, seat_id: int) -> HttpResponse:
    """The confirmation step: the number, its monthly price, the terms box, Complete Setup."""
    user, org = _me(request)
    seat = _empty_seat(request, seat_id)
    if seat is None:
        return _back()
    form = ConfirmForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        messages.error(request, "Pick a number first.")
        return _back()
    mode, area_code, e164 = (form.cleaned_data[k] for k in ("mode", "area_code", "e164"))
    error = ""
    if request.method == "POST":
        try:
            number = services.buy_number(
                user,
                seat,
                area_code=area_code,
                e164=e164,
                terms_accepted=form.cleaned_data["terms_accepted"],
            )
        except DomainError as exc:
            if exc.code == "number_unavailable" and mode == "auto":
                try:
                    e164 = services.propose_number(org, area_code)
                    error = f"{exc.message} Here is another available number."
                except DomainError as again:
                    messages.error(request, again.message)
                    return _back()
            elif exc.code == "number_unavailable":
                messages.error(request, exc.message)
                query = urlencode({"area_code": area_code})
                return redirect(reverse("numbers:choose", args=[seat.pk]) + "?" + query)
            elif exc.code == "terms_not_accepted":
                error = exc.message
            else:
                messages.error(request, exc.message)
                return _back()
        else:
            messages.success(
                request,
                f"{format_phone(number.e164)} is set up for {seat}. Assign users to start texting.",
            )
            return _back()
    price = services.monthly_price_cents()
    context = {
        "seat": seat,
        "mode": mode,
        "area_code": area_code,
        "e164": e164,
        "price_label": services.price_label(price),
        "terms": services.terms_text(e164, price, seat.monthly_allowance),
        "error": error,
    }
    return render(request, "numbers/confirm.html", context, status=400 if error else 200)


@page(PERM)
@require_http_methods(["GET", "POST"])
def release(request: HttpRequest, seat_id: int) -> HttpResponse:
    """Release the seat's number after confirmation; the seat and its users stay."""
    user, _ = _me(request)
    seat = queries.access_seat(user, seat_id)
    row = queries.seat_row(seat)
    if row.number is None:
        messages.error(request, f"{seat} has no number to release.")
        return _back()
    if request.method == "POST":
        try:
            number = services.release_number(user, seat)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"{format_phone(number.e164)} was released; its monthly charge stops."
            )
        return _back()
    return render(request, "numbers/release.html", {"row": row})


@page(PERM)
@require_http_methods(["GET", "POST"])
def assign(request: HttpRequest, seat_id: int) -> HttpResponse:
    """Assign User: search available users by name, pick one or more, assign."""
    user, org = _me(request)
    seat = queries.access_seat(user, seat_id)
    if request.method == "POST":
        ids = parse_user_ids(request.POST.getlist("user_ids"))
        if ids is None:
            messages.error(request, "That selection is not valid.")
        elif not ids:
            messages.error(request, "Pick at least one user.")
        else:
            try:
                added = services.assign_users(user, seat, ids)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                names = ", ".join(a.user.display_name for a in added)
                messages.success(request, f"{names} assigned to {services.seat_label(seat)}.")
                return _back()
    q = request.GET.get("q", "")[:100]
    # Users ticked before a new search stay ticked, above the new matches.
    source = request.POST if request.method == "POST" else request.GET
    ticked = parse_user_ids(source.getlist("user_ids")) or []
    picked = queries.available_users(org, ids=ticked) if ticked else []
    context = {
        "row": queries.seat_row(seat),
        "q": q,
        "picked": picked,
        "candidates": [u for u in queries.available_users(org, q) if u.pk not in set(ticked)],
    }
    if request.htmx and request.method == "GET":  # type: ignore[attr-defined]
        return render(request, "numbers/_user_options.html", context)
    return render(
        request, "numbers/assign.html", context, status=400 if request.method == "POST" else 200
    )


@page(PERM)
@require_http_methods(["GET", "POST"])
def remove_user(request: HttpRequest, seat_id: int, user_id: int) -> HttpResponse:
    """Take a user off a seat after confirmation (the trash icon)."""
    user, _ = _me(request)
    seat = queries.access_seat(user, seat_id)
    row = queries.seat_row(seat)
    person = next((u for u in row.users if u.pk == user_id), None)
    if person is None:
        raise NotFound("That user is not on this seat.")
    if request.method == "POST":
        try:
            services.remove_user(user, seat, user_id)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            where = format_phone(row.number.e164) if row.number else str(seat)
            messages.success(request, f"{person.display_name} was removed from {where}.")
        return _back()
    return render(request, "numbers/remove_user.html", {"row": row, "person": person})
