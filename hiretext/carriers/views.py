"""The only webhook views: carriers post inbound texts and delivery statuses here.

CSRF-exempt POST; the carrier's signature is verified first (403, nothing stored), a
malformed payload is refused (400, never 500), then one service call per event.
"""

import logging
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hiretext.carriers.base import Carrier, InvalidSignature, MalformedWebhook
from hiretext.carriers.registry import get_carrier

log = logging.getLogger(__name__)


def _refusal(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def _carrier(slug: str) -> Carrier | None:
    try:
        return get_carrier(slug)
    except LookupError:
        return None


def _verified_events[E](
    request: HttpRequest, carrier: str, parse: Callable[[Carrier], list[E]]
) -> tuple[Carrier, list[E]] | JsonResponse:
    """Find the carrier, check the signature and parse; a refusal response otherwise."""
    adapter = _carrier(carrier)
    if adapter is None:
        return _refusal(404, "not_found", "No such carrier.")
    try:
        adapter.verify(request)
        return adapter, parse(adapter)
    except InvalidSignature:
        return _refusal(403, "invalid_signature", "The signature does not match.")
    except RequestDataTooBig:
        return _refusal(413, "request_too_large", "The request body is too large.")
    except MalformedWebhook as exc:
        return _refusal(400, "malformed", str(exc)[:200] or "Malformed payload.")


@csrf_exempt
@require_POST
def inbound(request: HttpRequest, carrier: str) -> HttpResponse:
    from hiretext.messaging.inbound import record_inbound

    verified = _verified_events(request, carrier, lambda a: a.parse_inbound(request))
    if isinstance(verified, JsonResponse):
        return verified
    adapter, events = verified
    stored = [record_inbound(carrier, event) for event in events]
    return adapter.webhook_response("inbound") or _counts(
        "received", len(events), "stored", sum(m is not None for m in stored)
    )


@csrf_exempt
@require_POST
def status(request: HttpRequest, carrier: str) -> HttpResponse:
    from hiretext.messaging.services import record_status

    verified = _verified_events(request, carrier, lambda a: a.parse_status(request))
    if isinstance(verified, JsonResponse):
        return verified
    adapter, updates = verified
    applied = [record_status(carrier, update) for update in updates]
    return adapter.webhook_response("status") or _counts(
        "received", len(updates), "matched", sum(m is not None for m in applied)
    )


def _counts(name: str, count: int, done_name: str, done: int) -> HttpResponse:
    """`{"received": n, "stored": k}` as JSON (written directly: JsonResponse's encoder
    cost a tenth of a webhook; bytes with the charset named, so the response does not look
    it up in the settings and the content type to encode them)."""
    body = f'{{"{name}": {count:d}, "{done_name}": {done:d}}}'.encode()
    return HttpResponse(body, content_type="application/json", charset="utf-8")
