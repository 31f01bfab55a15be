"""The SMS modal: the conversation with a person on the user's number, and the composer."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from hiretext.accounts.models import User
from hiretext.ats import queries as ats_queries
from hiretext.ats.models import Candidate, Contact
from hiretext.mail.composer import composer_context, send_from_composer
from hiretext.messaging import queries, services, signals
from hiretext.messaging.models import Conversation
from hiretext.web.decorators import page

PAGE_PERMS = {"candidate": "view_candidate_pool_page", "contact": "view_contacts_page"}


def _me(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _person(request: HttpRequest, kind: str, person_id: int) -> Candidate | Contact:
    user = _me(request)
    if kind not in PAGE_PERMS:
        raise Http404("No such kind of person.")
    if kind == "candidate":
        return ats_queries.access_candidate(user, person_id)
    return ats_queries.access_contact(user, person_id)


def _viewed(user: User, conversation: Conversation) -> None:
    """Shown to `user`: read for everyone on the number; the user counts as looking at it."""
    if conversation.unread:
        services.mark_read(conversation, user)
    signals.conversation_viewed.send(sender=Conversation, conversation=conversation, user=user)


def modal_context(
    user: User,
    person: Candidate | Contact,
    kind: str,
    *,
    channel: str = "",
    subject: str = "",
    body: str = "",
) -> dict[str, Any]:
    conversation = queries.conversation_with(user, person)
    messages = queries.thread(conversation) if conversation else []
    if conversation is not None:
        _viewed(user, conversation)
    problem = services.textable_problem(person)
    return {
        **composer_context(user, person, channel=channel, subject=subject, body=body),
        "kind": kind,
        "conversation": conversation,
        "thread_messages": messages,
        "problem": problem.message if problem else "",
        "state": "active" if messages else "new",
    }


@page("recruitment_sms")
@require_http_methods(["GET", "POST"])
def sms_modal(request: HttpRequest, kind: str, person_id: int) -> HttpResponse:
    person = _person(request, kind, person_id)
    user = _me(request)
    error, status = "", 200
    fields: dict[str, str] = {}
    if request.method == "POST":
        fields, error, status = send_from_composer(user, person, request.POST)
    context = {
        **modal_context(
            user,
            person,
            kind,
            channel=fields.get("channel", ""),
            subject=fields.get("subject", ""),
            body=fields.get("body", ""),
        ),
        "error": error,
    }
    return render(request, "messaging/modal.html", context, status=status)


@page("recruitment_sms")
@require_GET
def thread(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = queries.access_conversation(_me(request), conversation_id)
    _viewed(_me(request), conversation)
    return render(
        request,
        "messaging/_thread.html",
        {"thread_messages": queries.thread(conversation), "conversation": conversation},
    )
