"""The simulator's phone page and API (DESIGN: The simulator carrier).

The simulator is the outside world: no login. It is served unless turned off with
HIRETEXT_SIMULATOR_ENABLED=0 (production with a real carrier).
"""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hiretext.carriers.simulator import phones
from hiretext.carriers.simulator.phone_models import SimulatorPhone, SimulatorPhoneMessage
from hiretext.numbers.models import PhoneNumber

MAX_LIST = 200


def enabled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(settings, "HIRETEXT_SIMULATOR_ENABLED", True):
            raise Http404("The simulator is turned off.")
        return view(request, *args, **kwargs)

    return wrapper


def _bad(detail: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"code": "validation_error", "detail": detail}, status=status)


def _message_json(m: SimulatorPhoneMessage) -> dict[str, Any]:
    to_phone = m.direction == SimulatorPhoneMessage.Direction.TO_PHONE
    return {
        "message_id": m.external_id,
        "from": m.number if to_phone else m.phone,
        "to": m.phone if to_phone else m.number,
        "body": m.body,
        "status": m.status,
        "error_code": m.error_code,
        "created_at": m.created_at.isoformat(),
    }


def _thread(e164: str) -> list[SimulatorPhoneMessage]:
    rows = list(SimulatorPhoneMessage.objects.filter(phone=e164).order_by("-id")[:MAX_LIST])
    rows.reverse()
    return rows


@enabled
@require_GET
def phone_page(request: HttpRequest, e164: str) -> HttpResponse:
    if not phones.E164.match(e164):
        raise Http404("Not a phone number.")
    rows = _thread(e164)
    last_number = next(
        (m.number for m in reversed(rows) if m.direction == "to_phone"),
        rows[-1].number if rows else "",
    )
    context = {
        "e164": e164,
        "rows": rows,
        "reply_to": request.GET.get("to", last_number)[:16].strip().lstrip("+"),
        "behaviour": SimulatorPhone.objects.filter(e164=e164).first(),
    }
    template = "simulator/_thread.html" if request.htmx else "simulator/phone.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@enabled
@require_POST
def phone_reply(request: HttpRequest, e164: str) -> HttpResponse:
    """The reply box of the phone page (a form, with CSRF)."""
    body = request.POST.get("body", "")[: phones.MAX_BODY]
    to = request.POST.get("to", "").strip()
    if phones.E164.match(e164) and phones.E164.match(to) and body.strip():
        phones.phone_sends(e164, to, body)
    return redirect(f"{request.path.rsplit('/reply', 1)[0]}?{urlencode({'to': to})}")


@enabled
@require_GET
def api_messages(request: HttpRequest) -> JsonResponse:
    phone = request.GET.get("phone", "")[:20].strip()
    if phone.isdigit():  # an unencoded "+" arrives as a space
        phone = "+" + phone
    if not phones.E164.match(phone):
        return _bad("phone must be an E.164 number, e.g. +14155550101.")
    rows = SimulatorPhoneMessage.objects.filter(
        phone=phone, direction=SimulatorPhoneMessage.Direction.TO_PHONE
    ).order_by("id")[:MAX_LIST]
    return JsonResponse({"items": [_message_json(m) for m in rows]})


def _json_body(request: HttpRequest) -> dict[str, Any] | None:
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


@csrf_exempt
@enabled
@require_POST
def api_inbound(request: HttpRequest) -> JsonResponse:
    data = _json_body(request)
    if data is None:
        return _bad("The body must be a JSON object.")
    sender, to, body = data.get("from"), data.get("to"), data.get("body", "")
    message_id = data.get("message_id", "")
    if not (isinstance(sender, str) and phones.E164.match(sender)):
        return _bad("“from” must be an E.164 number.")
    if not (isinstance(to, str) and phones.E164.match(to)):
        return _bad("“to” must be an E.164 number.")
    if not isinstance(body, str) or len(body) > phones.MAX_BODY:
        return _bad(f"“body” must be text of at most {phones.MAX_BODY} characters.")
    if not isinstance(message_id, str) or len(message_id) > 64:
        return _bad("“message_id” must be text of at most 64 characters.")
    if not PhoneNumber.objects.filter(
        e164=to, carrier=phones.SLUG, status=PhoneNumber.Status.ACTIVE
    ).exists():
        return _bad(f"{to} is not an active simulator number.", status=422)
    message_id, webhook_status = phones.phone_sends(sender, to, body, message_id)
    return JsonResponse({"message_id": message_id, "webhook_status": webhook_status}, status=202)


@csrf_exempt
@enabled
@require_http_methods(["POST", "DELETE"])
def api_fail(request: HttpRequest, e164: str) -> JsonResponse:
    if not phones.E164.match(e164):
        return _bad("Not an E.164 number.")
    if request.method == "DELETE":
        phones.set_failure(e164, "ok")
        return JsonResponse({"phone": e164, "status": "ok", "error_code": ""})
    data = _json_body(request)
    if data is None:
        return _bad("The body must be a JSON object.")
    status, code = data.get("status"), data.get("error_code", "")
    allowed = {"undelivered", "failed", phones.UNREACHABLE, "ok"}
    if status not in allowed:
        return _bad("status must be “undelivered”, “failed”, “unreachable” or “ok”.")
    if not isinstance(code, (str, int)) or len(str(code)) > 30:
        return _bad("error_code must be a short code, e.g. “30006”.")
    phones.set_failure(e164, str(status), str(code))
    return JsonResponse({"phone": e164, "status": status, "error_code": str(code)})
