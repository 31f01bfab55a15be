"""Reads: a person's communications (every text and e-mail), as the user may see them."""

from hiretext.accounts.models import User
from hiretext.ats.models import Candidate, Contact
from hiretext.messaging.models import Conversation, Message
from hiretext.messaging.queries import visible_conversations

MAX_SHOWN = 300


def person_conversations(user: User, person: Candidate | Contact) -> list[int]:
    """Ids of the person's conversations: on the user's number, or all with the report right."""
    key = {"candidate": person} if isinstance(person, Candidate) else {"contact": person}
    if user.has_perm("accounts.view_sms_activity_report"):
        qs = Conversation.objects.filter(organization_id=person.organization_id, **key)
    else:
        qs = visible_conversations(user).filter(**key)
    return list(qs.values_list("pk", flat=True))


def communications(
    user: User, person: Candidate | Contact, limit: int = MAX_SHOWN
) -> list[Message]:
    """Every SMS and e-mail with `person` the user may see, oldest first (the latest `limit`)."""
    ids = person_conversations(user, person)
    if not ids:
        return []
    rows = list(
        Message.objects.filter(conversation_id__in=ids)
        .select_related("sender", "email", "conversation__number")
        .order_by("-created_at", "-id")[:limit]
    )
    rows.reverse()
    return rows
