"""`{% message_bubbles %}` writes the bubbles the template language wrote, text escaped."""

import itertools
import re
from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

from hiretext.accounts.models import User
from hiretext.ats.models import Candidate
from hiretext.mail.models import EmailDetails
from hiretext.messaging.models import Conversation, Message
from hiretext.web.tests.markup import same_markup

# The loop of the thread's template before `{% message_bubbles %}`: the reference.
TEMPLATE_BUBBLES = Template(
    "{% load l10n timestamps %}{% localize off %}{% for m in thread_messages %}"
    '<li class="bubble {% if m.is_outbound %}bubble-out{% else %}bubble-in{% endif %}'
    "{% if m.status == 'failed' or m.status == 'undelivered' %} bubble-failed{% endif %}\" "
    'data-message-id="{{ m.pk }}" data-status="{{ m.status }}"><span class="bubble-meta">'
    "{% if m.is_outbound %}{% if m.sender %}{{ m.sender.display_name }}"
    "{% elif m.category == 'automatic' %}Automatic reply{% else %}Sent{% endif %}{% else %}"
    "{% firstof person.full_name conversation.person.full_name conversation.phone "
    "m.conversation.phone %}{% endif %}{% if m.channel == 'email' %} · "
    '<span class="channel-tag">E-mail</span>{% elif show_channel %} · '
    '<span class="channel-tag">SMS</span>{% endif %} · {% timestamp m.created_at "M j, H:i T" %}'
    '{% if m.is_outbound %} · <span class="sms-status">{{ m.get_status_display }}</span>'
    "{% if m.status == 'delivered' %}"
    '<span class="tick tick-delivered" aria-hidden="true">✓✓</span>'
    '{% elif m.status == \'sent\' %}<span class="tick tick-sent" aria-hidden="true">✓</span>'
    "{% elif m.status == 'failed' or m.status == 'undelivered' %}"
    '<span class="tick tick-failed" aria-hidden="true">✕</span>{% endif %}{% endif %}</span>'
    "{% if m.channel == 'email' %}{% include \"mail/_email_bubble.html\" %}{% else %}"
    '<span class="bubble-body">{{ m.body|linebreaksbr }}</span>{% endif %}'
    '{% if m.error_message %}<span class="bubble-error" role="note">{{ m.error_message }}</span>'
    "{% endif %}</li>{% endfor %}{% endlocalize %}"
)
HOSTILE = "<script>alert(\"x\")</script> & 'quoted'\n<img src=x onerror=alert(1)>"
S = Message.Status


def _messages():
    recruiter = User(first_name="Dana", last_name="<Scully>", email="dana@acme.test")
    nameless = User(email="ops@acme.test")
    conversation = Conversation(pk=7, phone="+13125550100")
    kinds = [
        # (direction, status, channel, category, sender, error)
        ("in", S.RECEIVED, "sms", "general", None, ""),
        ("out", S.DELIVERED, "sms", "general", recruiter, ""),
        ("out", S.SENT, "sms", "interview", nameless, ""),
        ("out", S.FAILED, "sms", "general", None, "Carrier said <no> & 'never'"),
        ("out", S.UNDELIVERED, "sms", "automatic", None, ""),
        ("out", S.QUEUED, "sms", "rejection", recruiter, ""),
        ("out", S.SENDING, "email", "general", recruiter, ""),
        ("in", S.RECEIVED, "email", "general", None, ""),
    ]
    messages = []
    for k, (direction, status, channel, category, sender, error) in enumerate(kinds, start=1):
        message = Message(
            pk=1000 + k,
            direction=direction,
            status=status,
            channel=channel,
            category=category,
            body=f"{HOSTILE} #{k}\n\nSecond paragraph",
            error_message=error,
            created_at=datetime(2026, 3, 8, k, 5 * k, tzinfo=UTC),
        )
        message.sender = sender
        message.conversation = conversation
        if channel == "email":
            message.email = EmailDetails(
                message=message,
                subject=f"Re: {HOSTILE}",
                attachments=[{"name": "<cv>.pdf", "type": "application/pdf", "size": 12345}],
                full_text=HOSTILE * 2,  # more than the body: the original is offered
                truncated=k % 2 == 0,
            )
        messages.append(message)
    return messages


def _pages():
    """The contexts the thread is drawn in: the inbox's pane, a person's history, the
    communications tab (`show_channel`), an unknown phone's pane."""
    person = Candidate(first_name="Alex", last_name="<Rivera>")
    linked = Conversation(pk=8, phone="+13125550101", candidate=person)
    return [
        {"person": person, "conversation": linked},
        {"person": person},
        {"person": person, "show_channel": True},
        {"conversation": Conversation(pk=9, phone="+13125550199")},
        {"conversation": linked},
        {},
    ]


@pytest.mark.parametrize("page", range(len(_pages())))
@pytest.mark.parametrize("zone", ["America/Chicago", "Australia/Adelaide"])
def test_the_bubbles_are_what_the_template_wrote(page, zone):
    context = _pages()[page]
    thread = Template("{% load bubbles %}{% message_bubbles thread_messages %}")
    for messages in (_messages(), list(itertools.islice(reversed(_messages()), 3))):
        with timezone.override(zone):
            values = {**context, "thread_messages": messages}
            ours = thread.render(Context(values))
            theirs = TEMPLATE_BUBBLES.render(Context(values))
        assert same_markup(ours) == same_markup(theirs)


def test_hostile_text_is_escaped():
    html = Template("{% load bubbles %}{% message_bubbles thread_messages %}").render(
        Context({**_pages()[0], "thread_messages": _messages()})
    )
    assert "<script>" not in html and "<img" not in html and "<Scully>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;<br>" in html
    assert "Dana &lt;Scully&gt;" in html and "Alex &lt;Rivera&gt;" in html
    assert "Carrier said &lt;no&gt; &amp; &#x27;never&#x27;" in html
    assert "&lt;cv&gt;.pdf" in html


def test_states_senders_and_channels():
    html = Template("{% load bubbles %}{% message_bubbles thread_messages %}").render(
        Context({"show_channel": True, "thread_messages": _messages()})
    )
    bubbles = re.split(r'(?=<li class="bubble )', html)[1:]
    assert len(bubbles) == 8
    assert 'class="bubble bubble-in"' in bubbles[0] and "+13125550100" in bubbles[0]
    assert "tick-delivered" in bubbles[1] and "Delivered" in bubbles[1]
    assert "ops@acme.test" in bubbles[2] and "tick-sent" in bubbles[2]
    assert "bubble-failed" in bubbles[3] and "bubble-error" in bubbles[3] and "Sent ·" in bubbles[3]
    assert "Automatic reply" in bubbles[4] and "Not delivered" in bubbles[4]
    assert "tick" not in bubbles[5] and "Queued" in bubbles[5]
    assert "E-mail</span>" in bubbles[6] and "bubble-subject" in bubbles[6]
    assert "SMS</span>" in bubbles[0] and "SMS</span>" not in bubbles[6]
    assert "email-original" in bubbles[7] and "email-original" not in bubbles[6]
    assert 'data-message-id="1001" data-status="received"' in bubbles[0]
