"""The Carrier page (Administration): which carrier the organisation texts through."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from hiretext.accounts.models import Organization, User
from hiretext.carrier_accounts import queries, services
from hiretext.carrier_accounts.forms import CarrierForm
from hiretext.carriers.twilio.public import public_base
from hiretext.lib.errors import DomainError
from hiretext.web.decorators import page

PERM = "manage_text_messaging"
SECRETS = ("auth_token", "api_key_secret")


def _me(request: HttpRequest) -> tuple[User, Organization]:
    user = request.user
    assert isinstance(user, User) and user.organization is not None
    return user, user.organization


def _render(request: HttpRequest, form: CarrierForm, status: int = 200) -> HttpResponse:
    _, org = _me(request)
    base = public_base()
    context = {
        "form": form,
        "account": queries.carrier_account(org),
        "inbound_url": f"{base}/webhooks/twilio/inbound" if base else "",
        "status_url": f"{base}/webhooks/twilio/status" if base else "",
    }
    return render(request, "carrier_accounts/carrier.html", context, status=status)


@sensitive_post_parameters(*SECRETS)
@page(PERM)
@require_http_methods(["GET", "POST"])
def carrier_settings(request: HttpRequest) -> HttpResponse:
    user, org = _me(request)
    if request.method == "GET":
        form = CarrierForm()
        form.initial_from(queries.carrier_account(org))
        return _render(request, form)
    form = CarrierForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.configure_carrier(
                org,
                user,
                services.CarrierSettings(
                    carrier=data["carrier"],
                    account_sid=data["account_sid"],
                    auth_token=data["auth_token"],
                    api_key_sid=data["api_key_sid"],
                    api_key_secret=data["api_key_secret"],
                    messaging_service_sid=data["messaging_service_sid"],
                ),
            )
        except DomainError as exc:
            for name, problems in (exc.errors or {}).items():
                for problem in problems:
                    form.add_error(name if name in form.fields else None, problem)
            if not exc.errors:
                form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                "Carrier settings saved."
                + (" Use “Test connection” to check them." if data["carrier"] == "twilio" else ""),
            )
            return redirect("carrier_accounts:settings")
    return _render(request, form, status=400)


@page(PERM)
@require_POST
def test_connection(request: HttpRequest) -> HttpResponse:
    user, org = _me(request)
    result = services.check_connection(org, user)
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect("carrier_accounts:settings")
