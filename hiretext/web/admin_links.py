"""Links of the Administration menu: apps register theirs, the menu shows what a user may open.

An app registers in its `AppConfig.ready()`::

    register_admin_link("Text Messaging Numbers", "numbers:seats", "manage_text_messaging")
"""

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject


@dataclass(frozen=True)
class AdminLink:
    label: str
    url_name: str
    perm: str  # accounts.<perm> needed to see and open it
    order: int = 100


_links: dict[str, AdminLink] = {}


def register_admin_link(label: str, url_name: str, perm: str, order: int = 100) -> None:
    """Add (or replace, by URL name) a link; safe to call again on reload."""
    _links[url_name] = AdminLink(label, url_name, perm, order)


def links_for(user: object) -> list[dict[str, str]]:
    has_perm = getattr(user, "has_perm", None)
    if not getattr(user, "is_authenticated", False) or has_perm is None:
        return []
    return [
        {"label": link.label, "url": reverse(link.url_name)}
        for link in sorted(_links.values(), key=lambda link: (link.order, link.label))
        if has_perm(f"accounts.{link.perm}")
    ]


def admin_links(request: HttpRequest) -> dict[str, object]:
    """Context processor: `admin_links` for web/_admin_menu.html, computed only when used."""
    return {"admin_links": SimpleLazyObject(lambda: links_for(getattr(request, "user", None)))}
