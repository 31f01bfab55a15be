"""The bell, the inbox widget, the chat panel, the notification setting, and the event stream."""

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hiretext.accounts.models import User
from hiretext.ats import queries as ats_queries
from hiretext.ats.models import Candidate, Contact
from hiretext.inbox import events, queries, services, stream
from hiretext.lib.errors import DomainError
from hiretext.mail.composer import composer_context, send_from_composer
from hiretext.messaging import queries as messaging_queries
from hiretext.messaging.models import Conversation
from hiretext.numbers.models import PhoneNumber
from hiretext.numbers.queries import number_for_user
from hiretext.web.decorators import page

THREAD_LIMIT = 100


def _me(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def stream_url() -> str:
    return getattr(settings, "HIRETEXT_EVENTS_URL", "") or reverse("inbox:events")


# --- the bell and the widget -----------------------------------------------------------------


@page("recruitment_sms")
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The bell's count, and where the live stream should resume from (3 queries)."""
    user = _me(request)
    number = number_for_user(user)
    context = {
        "unread": queries.unread_count(user, number),
        "last_event_id": events.latest_id(),
        "stream_url": stream_url(),
        "number": number,
    }
    return render(request, "inbox/_bell.html", context)


@page("recruitment_sms")
@require_GET
def widget(request: HttpRequest) -> HttpResponse:
    """The inbox widget under the bell: the unread conversations, newest first."""
    user = _me(request)
    number = number_for_user(user)
    found = queries.inbox(user, unread_only=True, limit=10, number=number)
    context = {
        "conversations": found.conversations,
        "more": found.next_cursor is not None,
        "number": number,
        "unread": queries.unread_count(user, number)
        if found.next_cursor
        else len(found.conversations),
    }
    return render(request, "inbox/_widget.html", context)


# --- the chat panel --------------------------------------------------------------------------


def _list_context(request: HttpRequest, user: User, number: PhoneNumber | None) -> dict[str, Any]:
    """The chat list on `number`, the user's (resolved once per request by the caller)."""
    cursor = request.GET.get("cursor") or None
    unread_only = request.GET.get("unread") == "1"
    try:
        found = queries.inbox(user, unread_only=unread_only, cursor=cursor, number=number)
    except DomainError:
        found, cursor = queries.inbox(user, unread_only=unread_only, number=number), None
    return {
        "conversations": found.conversations,
        "next_cursor": found.next_cursor,
        "cursor": cursor,
        "unread_only": unread_only,
        "number": number,
    }


def _pane_context(
    user: User,
    conversation: Conversation | None,
    person: Candidate | Contact | None,
    *,
    error: str = "",
    fields: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The open conversation and the shared composer (SMS or e-mail, `mail.composer`)."""
    if conversation is not None and person is None:
        person = conversation.person
    fields = fields or {}
    composer: dict[str, Any]
    if person is None:
        # A visible conversation is on the user's number (`access_conversation`).
        composer = {"number": conversation.number if conversation else number_for_user(user)}
    else:
        composer = composer_context(
            user,
            person,
            channel=fields.get("channel", ""),
            subject=fields.get("subject", ""),
            body=fields.get("body", ""),
            # A visible conversation is on the user's number (`access_conversation`).
            number=conversation.number if conversation is not None else None,
        )
    thread = messaging_queries.thread(conversation, THREAD_LIMIT) if conversation else []
    return {
        **composer,
        "conversation": conversation,
        "person": person,
        "kind": "candidate" if isinstance(person, Candidate) else "contact" if person else "",
        "thread_messages": thread,
        "error": error,
    }


def _chat(
    request: HttpRequest,
    conversation: Conversation | None = None,
    person: Candidate | Contact | None = None,
) -> HttpResponse:
    user = _me(request)
    if conversation is not None:
        services.open_conversation(user, conversation)
    pane = _pane_context(user, conversation, person) if (conversation or person) else {}
    if request.headers.get("HX-Target") == "chat-pane":
        return render(request, "inbox/_pane.html", pane)
    number = pane["number"] if pane else number_for_user(user)
    context = {**_list_context(request, user, number), **pane, "selected": conversation}
    return render(request, "inbox/chat.html", context)


@page("recruitment_sms")
@require_GET
def chats(request: HttpRequest) -> HttpResponse:
    return _chat(request)


@page("recruitment_sms")
@require_GET
def chat_list(request: HttpRequest) -> HttpResponse:
    """The list's rows (live refresh, "Show more", the unread filter)."""
    user = _me(request)
    return render(request, "inbox/_list.html", _list_context(request, user, number_for_user(user)))


@page("recruitment_sms")
@require_GET
def chat(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = messaging_queries.access_conversation(_me(request), conversation_id)
    return _chat(request, conversation)


def _person(user: User, kind: str, person_id: int) -> Candidate | Contact:
    if kind == "candidate":
        return ats_queries.access_candidate(user, person_id)
    if kind == "contact":
        return ats_queries.access_contact(user, person_id)
    raise Http404("No such kind of person.")


@page("recruitment_sms")
@require_GET
def chat_with(request: HttpRequest, kind: str, person_id: int) -> HttpResponse:
    """Start (or continue) the chat with a person: their conversation on the user's number."""
    user = _me(request)
    person = _person(user, kind, person_id)
    conversation = messaging_queries.conversation_with(user, person)
    if conversation is not None and request.headers.get("HX-Target") != "chat-pane":
        return redirect("inbox:chat", conversation.pk)
    return _chat(request, conversation, person)


@page("recruitment_sms")
@require_GET
def chat_thread(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The open conversation's bubbles, refreshed on its events: it is being looked at."""
    user = _me(request)
    conversation = messaging_queries.access_conversation(user, conversation_id)
    services.open_conversation(user, conversation)
    return render(
        request,
        "messaging/_thread.html",
        {
            "conversation": conversation,
            "thread_messages": messaging_queries.thread(conversation, THREAD_LIMIT),
        },
    )


@page("recruitment_sms")
@require_POST
def chat_send(request: HttpRequest, kind: str, person_id: int) -> HttpResponse:
    """The composer: send, then show the conversation (with the new bubble) again."""
    user = _me(request)
    person = _person(user, kind, person_id)
    fields, error, status = send_from_composer(user, person, request.POST)
    conversation = messaging_queries.conversation_with(user, person)
    context = _pane_context(user, conversation, person, error=error, fields=fields)
    response = render(request, "inbox/_pane.html", context, status=status)
    if conversation is not None:
        response["HX-Push-Url"] = reverse("inbox:chat", args=[conversation.pk])
    return response


@page("recruitment_sms")
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    """ "Start chat": people of the organisation matching a name."""
    q = request.GET.get("q", "")[:100]
    hits = queries.search_people(_me(request), q)
    return render(request, "inbox/_people.html", {"hits": hits, "q": q})


# --- the setting -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    user = _me(request)
    if request.method == "POST":
        enabled = request.POST.get("notify_on_reply") == "on"
        services.set_notify_on_reply(user, enabled)
        messages.success(
            request,
            "You will get an e-mail when someone replies."
            if enabled
            else "You will no longer get e-mails about replies.",
        )
        return redirect("inbox:settings")
    return render(request, "inbox/settings.html", {"notify_on_reply": user.notify_on_reply})


# --- the event stream ------------------------------------------------------------------------


def _refusal(status: int, text: str) -> HttpResponse:
    # Not text/event-stream: EventSource gives up instead of reconnecting forever.
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


async def event_stream(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Server-Sent Events for the logged-in user (see `stream`); ASGI, or WSGI as a fallback.

    Resumes after `Last-Event-ID` (sent by the browser on reconnect) or `?after=` (the
    page's starting point); without either it starts from now.
    """
    if request.method != "GET":
        return _refusal(405, "GET only.")
    user = await request.auser()
    if not user.is_authenticated or not isinstance(user, User):
        return _refusal(401, "Log in to receive live updates.")
    if user.organization_id is None or not await user.ahas_perm("accounts.recruitment_sms"):
        return _refusal(403, "You do not receive live updates.")
    after = stream.parse_event_id(request.headers.get("Last-Event-ID"))
    if after is None:
        after = stream.parse_event_id(request.GET.get("after"))
    options = stream.Options.for_user(user.pk, after if after is not None else 0)
    if isinstance(request, ASGIRequest):
        # The middleware's connection (session, user) is not kept for the stream's life.
        if after is None:
            options = stream.Options.for_user(user.pk, await sync_to_async(events.latest_id)())
        await sync_to_async(close_old_connections)()
        content: Any = stream.async_stream(options)
    else:
        if after is None:
            after = await sync_to_async(events.latest_id)()
        content = stream.sync_stream(stream.Options.for_wsgi(user.pk, after))
    response = StreamingHttpResponse(content, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event through at once
    return response
