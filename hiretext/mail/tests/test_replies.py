"""What a reply shows: quoted history and signatures stripped, in the styles mail programs use."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hiretext.mail.replies import html_to_text, strip_reply

GMAIL = """Tuesday works.

On Mon, Mar 3, 2025 at 9:12 AM Acme Staffing <jobs@acme.test> wrote:

> Hi Alex, are you free on Tuesday?
> Dana
"""

GMAIL_WRAPPED = """Tuesday works.

On Mon, Mar 3, 2025 at 9:12 AM Acme Staffing Recruiting Team <
reply+12.abc@reply.acme.test> wrote:
> Hi Alex
"""

OUTLOOK = """Thanks, I will be there.

________________________________
From: Acme Staffing <jobs@acme.test>
Sent: Monday, March 3, 2025 9:12 AM
To: Alex Rivera <alex@example.com>
Subject: Interview

Hi Alex, are you free?
"""

OUTLOOK_NO_RULE = """Thanks!

From: Acme Staffing <jobs@acme.test>
Sent: Monday, March 3, 2025 9:12 AM
Subject: Interview
Hi Alex
"""

ORIGINAL_MESSAGE = """See you then.

-----Original Message-----
From: Dana
Hi Alex
"""

SIGNATURE = """Yes please.

--
Alex Rivera
+1 415 555 0123
"""

MOBILE = """On my way

Sent from my iPhone"""

FRENCH = """D'accord pour mardi.

Le lun. 3 mars 2025 à 09:12, Acme Staffing <jobs@acme.test> a écrit :
> Bonjour Alex
"""

GERMAN = """Passt.

Am Mo., 3. März 2025 um 09:12 Uhr schrieb Acme Staffing <jobs@acme.test>:
> Hallo Alex
"""

INLINE = """> Are you free on Tuesday?
Yes, after 10.
> And Wednesday?
No, sorry."""


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (GMAIL, "Tuesday works."),
        (GMAIL_WRAPPED, "Tuesday works."),
        (OUTLOOK, "Thanks, I will be there."),
        (OUTLOOK_NO_RULE, "Thanks!"),
        (ORIGINAL_MESSAGE, "See you then."),
        (SIGNATURE, "Yes please."),
        (MOBILE, "On my way"),
        (FRENCH, "D'accord pour mardi."),
        (GERMAN, "Passt."),
        ("Plain answer.\r\nSecond line.", "Plain answer.\nSecond line."),
    ],
    ids=[
        "gmail",
        "gmail-wrapped",
        "outlook",
        "outlook-no-rule",
        "original-message",
        "signature",
        "mobile",
        "french",
        "german",
        "plain",
    ],
)
def test_quoted_history_and_signatures_are_stripped(text, shown):
    assert strip_reply(text) == shown


def test_inline_answers_keep_their_questions():
    assert strip_reply(INLINE) == INLINE


def test_a_reply_of_only_quotes_shows_everything():
    text = "> Hi Alex\n> are you free?"
    assert strip_reply(text) == text


def test_a_sentence_mentioning_wrote_is_not_a_quote():
    text = "On reflection, the manager wrote a lovely note.\nThanks!"
    assert strip_reply(text) == "On reflection, the manager wrote a lovely note.\nThanks!"


def test_html_to_text_drops_quotes_scripts_and_styles():
    html = (
        "<html><head><style>p{color:red}</style><title>t</title></head><body>"
        "<p>Works for me &amp; thanks</p><br><script>alert(1)</script>"
        "<blockquote><p>Hi Alex</p><p>Dana</p></blockquote></body></html>"
    )
    text = html_to_text(html)
    assert text == "Works for me & thanks\n\n> Hi Alex\n\n> Dana"
    assert strip_reply(text) == "Works for me & thanks"


def test_html_with_unclosed_and_stray_tags():
    assert html_to_text("<div>a<b>b</i></div></span>c<p>d") == "ab\nc\nd"


@given(st.text(max_size=2000))
def test_stripping_never_invents_text(text):
    shown = strip_reply(text)
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    assert shown in normalised or shown == normalised.strip()
    assert len(shown) <= len(normalised)


@given(st.text(max_size=2000))
def test_html_to_text_never_fails(html):
    assert isinstance(html_to_text(html), str)
