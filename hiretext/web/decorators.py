"""Page access: logged in, in an organisation, holding the page's permission."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import HttpResponseClientRedirect

from hiretext.accounts.models import User
from hiretext.accounts.permission_cache import with_cached_permissions
from hiretext.lib.errors import NotFound

type View = Callable[..., HttpResponse]


def page(*perms: str) -> Callable[[View], View]:
    """Require login and every `accounts.<perm>`; another organisation's ids give 404."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                htmx = getattr(request, "htmx", None)
                if htmx:
                    # A swapped-in partial would put the login form inside the table: send
                    # the whole page to log in, and back to that page afterwards.
                    login = redirect_to_login(htmx.current_url_abs_path or request.get_full_path())
                    return HttpResponseClientRedirect(login["Location"])
                return redirect_to_login(request.get_full_path())
            assert isinstance(user, User)
            # Read at most every few seconds per process, as the API does (two statements
            # on every page otherwise); templates' `perms` ask the same instance.
            with_cached_permissions(user)
            missing = [p for p in perms if not user.has_perm(f"accounts.{p}")]
            if user.organization_id is None or missing:
                return render(request, "web/forbidden.html", status=403)
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc

        return wrapper

    return decorator
