"""`{% chat_items %}` writes the rows the template language wrote, hostile text escaped."""

from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

from hiretext.ats.models import Candidate, Contact
from hiretext.inbox.templatetags.chat_items import chat_items
from hiretext.messaging.models import Conversation
from hiretext.web.tests.markup import same_markup

# The rows as the list's template wrote them before `{% chat_items %}`: the reference.
TEMPLATE_ROWS = Template(
    "{% load l10n snippets timestamps %}{% localize off %}{% for c in conversations %}"
    "{% with person=c.person %}"
    '<li class="chat-item{% if c.unread %} unread{% endif %}"><a href="{{ chats_url }}{{ c.pk }}/" '
    'hx-get="{{ chats_url }}{{ c.pk }}/" hx-target="#chat-pane" hx-push-url="true" '
    'data-conversation-id="{{ c.pk }}"{% if selected and selected.pk == c.pk %} '
    'aria-current="true"{% endif %}><span class="name">{% if person %}{{ person.full_name }}'
    "{% else %}{{ c.phone }}{% endif %}</span>{% if c.unread %} "
    '<span class="badge badge-unread">Unread</span>{% endif %}'
    '{% timestamp c.last_message_at "M j, H:i" css="muted small" %}'
    "<span class=\"snippet muted small\">{% if c.last_direction == 'out' %}You: {% endif %}"
    "{{ c.last_body|snippet:70 }}</span></a></li>{% endwith %}{% endfor %}{% endlocalize %}"
)
HOSTILE = "<script>alert(\"x\")</script> & 'quoted' <img src=x onerror=alert(1)>"


def _conversation(pk, *, person=None, phone="+13125550100", unread=False, **last):
    conversation = Conversation(
        pk=pk,
        phone=phone,
        unread=unread,
        last_message_at=datetime(2026, 3, 8, 7 + pk % 12, pk % 60, tzinfo=UTC),
    )
    if isinstance(person, Candidate):
        conversation.candidate = person
    elif isinstance(person, Contact):
        conversation.contact = person
    for name, value in last.items():
        setattr(conversation, name, value)
    return conversation


def _conversations():
    long_body = "Thanks for applying! " * 10 + "e\u0301" * 5
    return [
        _conversation(1, person=Candidate(first_name="Alex", last_name="Rivera"), unread=True,
                      last_body="Yes <b>please</b>", last_direction="in"),
        _conversation(2, person=Contact(first_name=HOSTILE, last_name="&amp;"),
                      last_body=HOSTILE, last_direction="out"),
        _conversation(3, phone='+1312"><script>', last_body=long_body, last_direction="out"),
        _conversation(40, person=Candidate(first_name="", last_name=""), unread=True,
                      last_body="👩\u200d💻 " * 40, last_direction="in"),
    ]  # fmt: skip


@pytest.mark.parametrize("selected", [None, 2, 40, 99])
@pytest.mark.parametrize("zone", ["America/Chicago", "Asia/Kolkata"])
def test_the_rows_are_what_the_template_wrote(selected, zone):
    conversations = _conversations()
    chosen = next((c for c in conversations if c.pk == selected), None)
    with timezone.override(zone):
        ours = chat_items(conversations, "/inbox/chats/", chosen)
        theirs = TEMPLATE_ROWS.render(
            Context(
                {"conversations": conversations, "chats_url": "/inbox/chats/", "selected": chosen}
            )
        )
    assert same_markup(ours) == same_markup(theirs)


def test_hostile_text_is_escaped():
    html = chat_items(_conversations(), "/inbox/chats/")
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;" in html
    assert "Yes &lt;b&gt;please&lt;/b&gt;" in html
    assert 'data-conversation-id="3"><span' not in html  # the phone's quote did not close it
    assert "+1312&quot;&gt;&lt;script&gt;" in html


def test_selected_unread_and_the_senders_words():
    html = chat_items(_conversations(), "/inbox/chats/", _conversations()[1])
    rows = html.split("</li>")
    assert 'aria-current="true"' in rows[1] and html.count("aria-current") == 1
    assert "badge-unread" in rows[0] and "badge-unread" not in rows[1]
    assert 'class="chat-item unread"' in rows[0] and 'class="chat-item"' in rows[1]
    assert "You: " in rows[1] and "You: " not in rows[0]
    assert 'href="/inbox/chats/40/" hx-get="/inbox/chats/40/"' in rows[3]


def test_outside_a_page_selected_is_an_empty_string():
    """A list refresh has no `selected` in its context: the template passes ""."""
    html = Template("{% load chat_items %}{% chat_items conversations '/c/' selected %}").render(
        Context({"conversations": _conversations()})
    )
    assert html.count("<li") == 4 and "aria-current" not in html


def test_a_conversation_without_a_last_message_shows_no_text():
    html = chat_items([_conversation(5, last_body=None)], "/inbox/chats/")
    assert '<span class="snippet muted small"></span>' in html
