"""`{% chat_items %}`: the chat list's rows, written in Python.

The list is drawn with every inbox page and again on each live refresh: a text that
arrives refreshes the list of every user on its number. Through the template language a
row cost a dozen variable look-ups, a `with`, three `if`s, a filter and a tag, most of
the list's time; the rows are written here instead, as Django's admin writes the rows
of its change lists. The text in them is escaped (message bodies are hostile input).
"""

from collections.abc import Iterable
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from hiretext.messaging.models import Conversation, Message
from hiretext.web.templatetags.snippets import snippet
from hiretext.web.templatetags.timestamps import timestamp

register = template.Library()

SNIPPET_LENGTH = 70
_OUT = Message.Direction.OUTBOUND.value


def chat_item(conversation: Conversation, chats_url: str, selected_id: int | None) -> str:
    """One row: the person (or the phone), unread, the last message's time and text."""
    person = conversation.person
    name = person.full_name if person is not None else conversation.phone
    unread = conversation.unread
    url = f"{escape(chats_url)}{conversation.pk}/"
    current = ' aria-current="true"' if conversation.pk == selected_id else ""
    badge = ' <span class="badge badge-unread">Unread</span>' if unread else ""
    when = timestamp(conversation.last_message_at, "M j, H:i", css="muted small")
    you = "You: " if getattr(conversation, "last_direction", None) == _OUT else ""
    body = escape(snippet(getattr(conversation, "last_body", None) or "", SNIPPET_LENGTH))
    return (
        f'<li class="chat-item{" unread" if unread else ""}"><a href="{url}" hx-get="{url}" '
        f'hx-target="#chat-pane" hx-push-url="true" data-conversation-id="{conversation.pk}"'
        f'{current}>\n    <span class="name">{escape(name)}</span>{badge}\n    {when}\n'
        f'    <span class="snippet muted small">{you}{body}</span>\n  </a></li>'
    )


@register.simple_tag
def chat_items(
    conversations: Iterable[Conversation],
    chats_url: str,
    selected: Conversation | str | None = None,
) -> SafeString:
    """Every row of the list, `<li>` elements; a conversation at `chats_url` + its id."""
    selected_id = getattr(selected, "pk", None)  # absent from the context: ""
    rows = [chat_item(c, chats_url, selected_id) for c in conversations]
    return mark_safe("\n  ".join(rows))  # noqa: S308 - every value is escaped above
