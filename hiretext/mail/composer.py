"""The composer's state for a person: which channels are open, and why the others are not.

Shared by the SMS modal, the Communications tab (and any other page that writes to a
person): SMS only when the person is textable, e-mail only with an address.
"""

import secrets
from typing import Any

from hiretext.accounts.models import User
from hiretext.ats.models import Candidate, Contact
from hiretext.lib.errors import DomainError
from hiretext.mail import services as mail_services
from hiretext.messaging import services as messaging_services
from hiretext.messaging.models import Message
from hiretext.numbers.models import PhoneNumber
from hiretext.numbers.queries import number_for_user

SMS = Message.Channel.SMS
EMAIL = Message.Channel.EMAIL


def composer_context(
    user: User,
    person: Candidate | Contact,
    *,
    channel: str = "",
    subject: str = "",
    body: str = "",
    number: PhoneNumber | None = None,
) -> dict[str, Any]:
    """What the SMS/e-mail composer shows; `number`: the user's, when the caller has it."""
    sms_problem = messaging_services.textable_problem(person)
    email_problem = mail_services.email_problem(person)
    can_sms, can_email = sms_problem is None, email_problem is None
    chosen: str
    if channel == EMAIL and can_email:
        chosen = EMAIL
    elif channel == SMS and can_sms:
        chosen = SMS
    else:
        chosen = SMS if can_sms else EMAIL if can_email else ""
    return {
        "person": person,
        "number": number if number is not None else number_for_user(user),
        "can_sms": can_sms,
        "can_email": can_email,
        "sms_problem": sms_problem.message if sms_problem else "",
        "email_problem": email_problem.message if email_problem else "",
        "channel": chosen,
        "subject": subject,
        "body": body,
        "idempotency_key": secrets.token_urlsafe(16),
        "max_characters": messaging_services.MAX_CHARACTERS,
        "max_email_characters": mail_services.MAX_BODY,
        "max_subject": mail_services.MAX_SUBJECT,
    }


def posted(post: Any) -> dict[str, str]:
    """The composer's fields from a form post, cut well above every limit (the service says no)."""
    return {
        "channel": str(post.get("channel", SMS))[:10],
        "subject": str(post.get("subject", ""))[: mail_services.MAX_SUBJECT * 4],
        "body": str(post.get("body", ""))[: mail_services.MAX_BODY + 1],
        "category": str(post.get("category", Message.Category.GENERAL))[:20],
        "idempotency_key": str(post.get("idempotency_key", ""))[
            : messaging_services.MAX_IDEMPOTENCY_KEY
        ],
    }


def send_from_composer(
    user: User, person: Candidate | Contact, post: Any
) -> tuple[dict[str, str], str, int]:
    """Send what the composer posted: (fields to show again, error message, HTTP status).

    On success only the channel is kept, so the composer comes back empty on that channel.
    """
    fields = posted(post)
    try:
        messaging_services.send_message(
            user,
            person,
            fields["body"],
            subject=fields["subject"],
            channel=fields["channel"],
            category=fields["category"],
            idempotency_key=fields["idempotency_key"],
        )
    except DomainError as exc:
        return fields, exc.message, 422
    finally:
        person.refresh_from_db()
    return {"channel": fields["channel"]}, "", 200
