"""The SMS icon and the SMS history section, for the pages that show people."""

from typing import Any

from django import template
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from hiretext.accounts.models import User
from hiretext.ats.models import Candidate, Contact
from hiretext.messaging import queries

register = template.Library()

STATES_ATTR = "_hiretext_sms_states"


def _kind(person: Candidate | Contact) -> str:
    return "candidate" if isinstance(person, Candidate) else "contact"


def _state(context: template.Context, user: User, person: Candidate | Contact) -> str:
    """ "active" once the user's number has talked with `person`, else "new".

    States are computed for every person the page holds in one query and kept on the
    request, so a page of 50 rows costs one query, not 50.
    """
    request: HttpRequest | None = context.get("request")
    holder: Any = request if request is not None else context
    cache: dict[tuple[str, int], bool] | None = getattr(holder, STATES_ATTR, None)
    if cache is None:
        cache = {}
        setattr(holder, STATES_ATTR, cache)
    key = (_kind(person), person.pk)
    if key not in cache:
        values = [v for d in context.dicts for v in d.values()]
        people = [p for p in queries.people_on_page(values) if (_kind(p), p.pk) not in cache]
        if all(p.pk != person.pk or _kind(p) != key[0] for p in people):
            people.append(person)
        active = queries.active_people(user, people)
        for p in people:
            cache[(_kind(p), p.pk)] = (_kind(p), p.pk) in active
    return "active" if cache[key] else "new"


@register.simple_tag(takes_context=True)
def sms_button(context: template.Context, person: Candidate | Contact | None) -> SafeString:
    """The "Send an SMS message" button, or nothing if the person cannot be texted."""
    user = context.get("user")
    if (
        person is None
        or not isinstance(user, User)
        or not user.has_perm("accounts.recruitment_sms")
        or not person.is_textable
    ):
        return SafeString("")
    return SafeString(
        render_to_string(
            "messaging/_sms_button.html",
            {"person": person, "kind": _kind(person), "state": _state(context, user, person)},
        )
    )


@register.inclusion_tag("messaging/_history.html", takes_context=True)
def sms_history(context: template.Context, person: Candidate | Contact) -> dict[str, Any]:
    user = context.get("user")
    if not isinstance(user, User) or not user.has_perm("accounts.recruitment_sms"):
        return {"show": False}
    return {"show": True, "person": person, "conversations": queries.history(user, person)}
