"""`{% message_bubbles %}`: a thread's messages, written in Python.

A conversation page draws up to a hundred bubbles, and the thread is drawn again on each
live refresh of it. Through the template language a bubble cost some twenty variable
look-ups and a dozen `if`s, a third of the page's time; the bubbles are written here
instead, as the chat list's rows are (`inbox.templatetags.chat_items`). An e-mail's
bubble, rarer and richer, is still its template. Text is escaped (message bodies and
names are hostile input).
"""

from collections.abc import Iterable
from html import escape
from typing import Any

from django import template
from django.template.defaultfilters import linebreaksbr
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

from hiretext.messaging.models import Message
from hiretext.web.templatetags.timestamps import timestamp

register = template.Library()

_EMAIL = Message.Channel.EMAIL.value
_AUTOMATIC = Message.Category.AUTOMATIC.value
_FAILED = frozenset({Message.Status.FAILED.value, Message.Status.UNDELIVERED.value})
_TICK = '<span class="tick tick-{}" aria-hidden="true">{}</span>'
_TICKS = {
    Message.Status.DELIVERED.value: _TICK.format("delivered", "✓✓"),
    Message.Status.SENT.value: _TICK.format("sent", "✓"),
    Message.Status.FAILED.value: _TICK.format("failed", "✕"),
    Message.Status.UNDELIVERED.value: _TICK.format("failed", "✕"),
}


def _name(value: Any, attribute: str) -> str:
    """`value.attribute` as the template language reads it: "" when either is missing."""
    if not value:
        return ""
    return getattr(value, attribute, "") or ""


def _their_name(context: template.Context) -> str:
    """Who an inbound message is from, as the thread names them: the page's person, the
    conversation's, or the conversation's phone ("" when the page has neither)."""
    person, conversation = context.get("person"), context.get("conversation")
    their_person = getattr(conversation, "person", None) if conversation else None
    return (
        _name(person, "full_name")
        or _name(their_person, "full_name")
        or _name(conversation, "phone")
    )


def bubble(message: Message, their_name: str, show_channel: bool) -> str:
    """One message: who and when, its delivery state, its text, its error."""
    outbound = message.is_outbound
    status = message.status
    if outbound:
        sender = message.sender
        who = escape(
            sender.display_name
            if sender
            else "Automatic reply"
            if message.category == _AUTOMATIC
            else "Sent"
        )
    else:
        who = escape(their_name or message.conversation.phone)
    email = message.channel == _EMAIL
    if email:
        who += ' · <span class="channel-tag">E-mail</span>'
    elif show_channel:
        who += ' · <span class="channel-tag">SMS</span>'
    who += " · " + timestamp(message.created_at, "M j, H:i T")
    if outbound:
        who += (
            f' · <span class="sms-status">{escape(message.get_status_display())}</span>'
            f"{_TICKS.get(status, '')}"
        )
    if email:
        body = get_template("mail/_email_bubble.html").render({"m": message})
    else:
        body = f'<span class="bubble-body">{linebreaksbr(message.body, autoescape=True)}</span>'
    error = (
        f'\n    <span class="bubble-error" role="note">{escape(message.error_message)}</span>'
        if message.error_message
        else ""
    )
    side = "bubble-out" if outbound else "bubble-in"
    failed = " bubble-failed" if status in _FAILED else ""
    return (
        f'<li class="bubble {side}{failed}" data-message-id="{message.pk}" '
        f'data-status="{escape(status)}">\n    <span class="bubble-meta">{who}</span>\n'
        f"    {body}{error}\n  </li>"
    )


@register.simple_tag(takes_context=True)
def message_bubbles(context: template.Context, messages: Iterable[Message]) -> SafeString:
    """Every message of the thread, `<li>` elements, oldest first as given."""
    their_name = _their_name(context)
    show_channel = bool(context.get("show_channel"))
    bubbles = [bubble(m, their_name, show_channel) for m in messages]
    return mark_safe("\n  ".join(bubbles))  # noqa: S308 - every value is escaped above
