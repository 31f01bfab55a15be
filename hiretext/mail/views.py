"""Pages: a person's Communications tab; the simulator's mailboxes (page and API)."""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hiretext.accounts.models import User
from hiretext.ats import queries as ats_queries
from hiretext.ats.models import Candidate, Contact
from hiretext.mail import queries, simulator
from hiretext.mail.addresses import MESSAGE_ID
from hiretext.mail.composer import composer_context, send_from_composer
from hiretext.mail.models import SimulatorMail
from hiretext.messaging import services as messaging_services
from hiretext.messaging import signals
from hiretext.messaging.models import Conversation
from hiretext.messaging.queries import conversation_with
from hiretext.web.decorators import page


def _me(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- Communications ------------------------------------------------------------------------


def _viewed(user: User, person: Candidate | Contact) -> None:
    """The conversation on the user's number is on screen: read for everyone on it."""
    conversation = conversation_with(user, person)
    if conversation is None:
        return
    if conversation.unread:
        messaging_services.mark_read(conversation, user)
    signals.conversation_viewed.send(sender=Conversation, conversation=conversation, user=user)


def _urls(kind: str, person: Candidate | Contact) -> dict[str, str]:
    return {
        "page_url": reverse(f"mail:{kind}-communications", args=[person.pk]),
        "thread_url": reverse(f"mail:{kind}-communications-thread", args=[person.pk]),
    }


def _communications(request: HttpRequest, person: Candidate | Contact, kind: str) -> HttpResponse:
    user = _me(request)
    fields: dict[str, str] = {}
    error, status = "", 200
    if request.method == "POST":
        fields, error, status = send_from_composer(user, person, request.POST)
        if not error and not request.htmx:  # type: ignore[attr-defined]
            return redirect(_urls(kind, person)["page_url"])
    _viewed(user, person)
    context = {
        **composer_context(
            user,
            person,
            channel=fields.get("channel", ""),
            subject=fields.get("subject", ""),
            body=fields.get("body", ""),
        ),
        **_urls(kind, person),
        "kind": kind,
        "is_candidate": kind == "candidate",
        "thread_messages": queries.communications(user, person),
        "error": error,
        "tab": "communications",
    }
    template = "mail/_communications.html" if request.htmx else "mail/communications.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=status)


@page("view_candidate_profile_page", "recruitment_sms")
@require_http_methods(["GET", "POST"])
def candidate_communications(request: HttpRequest, person_id: int) -> HttpResponse:
    person = ats_queries.access_candidate(_me(request), person_id)
    return _communications(request, person, "candidate")


@page("view_contacts_page", "recruitment_sms")
@require_http_methods(["GET", "POST"])
def contact_communications(request: HttpRequest, person_id: int) -> HttpResponse:
    person = ats_queries.access_contact(_me(request), person_id)
    return _communications(request, person, "contact")


def _thread(request: HttpRequest, person: Candidate | Contact) -> HttpResponse:
    user = _me(request)
    _viewed(user, person)
    return render(
        request,
        "mail/_communications_thread.html",
        {"person": person, "thread_messages": queries.communications(user, person)},
    )


@page("view_candidate_profile_page", "recruitment_sms")
@require_GET
def candidate_communications_thread(request: HttpRequest, person_id: int) -> HttpResponse:
    return _thread(request, ats_queries.access_candidate(_me(request), person_id))


@page("view_contacts_page", "recruitment_sms")
@require_GET
def contact_communications_thread(request: HttpRequest, person_id: int) -> HttpResponse:
    return _thread(request, ats_queries.access_contact(_me(request), person_id))


# --- the simulator's mailboxes -------------------------------------------------------------


def enabled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(settings, "HIRETEXT_SIMULATOR_ENABLED", True):
            raise Http404("The simulator is turned off.")
        return view(request, *args, **kwargs)

    return wrapper


def _bad(detail: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"code": "validation_error", "detail": detail}, status=status)


def _mail_json(m: SimulatorMail) -> dict[str, Any]:
    return {
        "from": m.sender,
        "to": m.to,
        "reply_to": m.reply_to,
        "subject": m.subject,
        "text": m.text,
        "headers": m.headers,
        "message_id": m.message_id,
        "created_at": m.created_at.isoformat(),
    }


@enabled
@require_GET
def api_mailbox(request: HttpRequest) -> JsonResponse:
    """`GET /simulator/api/mailbox?address=`: the e-mails that address has received."""
    address = simulator.valid_address(request.GET.get("address", "")[:300])
    if address is None:
        return _bad("address must be an e-mail address, e.g. alex@example.com.")
    return JsonResponse({"items": [_mail_json(m) for m in simulator.received(address)]})


def _reply_fields(data: dict[str, Any]) -> tuple[tuple[str, str, str, str, str] | None, str]:
    """Checked reply fields (from, to, subject, text, in_reply_to), or the problem."""
    sender, to = simulator.valid_address(data.get("from")), simulator.valid_address(data.get("to"))
    subject, text = data.get("subject", ""), data.get("text", "")
    in_reply_to = data.get("in_reply_to") or ""
    if sender is None:
        return None, "“from” must be an e-mail address."
    if to is None:
        return None, "“to” must be an e-mail address."
    if not isinstance(subject, str) or len(subject) > simulator.MAX_SUBJECT:
        return None, f"“subject” must be text of at most {simulator.MAX_SUBJECT} characters."
    if "\r" in subject or "\n" in subject:
        return None, "“subject” must be one line."
    if not isinstance(text, str) or len(text) > simulator.MAX_TEXT:
        return None, f"“text” must be text of at most {simulator.MAX_TEXT} characters."
    if not isinstance(in_reply_to, str) or len(in_reply_to) > 255:
        return None, "“in_reply_to” must be a Message-ID of at most 255 characters."
    if in_reply_to and not MESSAGE_ID.fullmatch(in_reply_to.strip()):
        return None, "“in_reply_to” must be a Message-ID such as <abc@example.com>."
    return (sender, to, subject, text, in_reply_to.strip()), ""


@csrf_exempt
@enabled
@require_POST
def api_mail_reply(request: HttpRequest) -> JsonResponse:
    """`POST /simulator/api/mail-reply`: the person answers by e-mail; the app receives it."""
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        return _bad("The body must be a JSON object.")
    fields, problem = _reply_fields(data)
    if fields is None:
        return _bad(problem)
    delivery = simulator.send_reply(*fields)
    return JsonResponse(
        {
            "message_id": delivery.message_id,
            "webhook_status": delivery.webhook_status,
            "stored": delivery.stored,
        },
        status=202,
    )


@enabled
@require_GET
def mailbox_page(request: HttpRequest) -> HttpResponse:
    """The mailbox as a page: what the address received, each with a reply box."""
    raw = request.GET.get("address", "")[:300]
    address = simulator.valid_address(raw)
    context = {
        "address": address or "",
        "asked": raw,
        "rows": simulator.mailbox(address) if address else [],
        "sent": request.GET.get("sent", "") in ("1", "0"),
        "stored": request.GET.get("sent") == "1",
    }
    template = "mail/_mailbox_rows.html" if request.htmx else "mail/mailbox.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=200 if address or not raw else 400)


@enabled
@require_POST
def mailbox_reply(request: HttpRequest) -> HttpResponse:
    """The reply form of the mailbox page (a form, with CSRF)."""
    data = {k: request.POST.get(k, "") for k in ("from", "to", "subject", "text", "in_reply_to")}
    data["text"] = data["text"][: simulator.MAX_TEXT + 1]
    fields, problem = _reply_fields(data)
    if fields is None:
        return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")
    delivery = simulator.send_reply(*fields)
    query = urlencode({"address": fields[0], "sent": "1" if delivery.stored else "0"})
    return redirect(f"{reverse('mail:mailbox')}?{query}")
