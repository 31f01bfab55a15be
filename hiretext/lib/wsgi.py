"""Two middleware stacks: the browser's, and a lean one for machine-to-machine requests.

Carrier and e-mail webhooks, and API calls that carry a bearer token and no session
cookie, use nothing the browser middleware provides (sessions, CSRF, the signed-in user,
flash messages, htmx, the organisation's time zone): their views check a signature or a
token themselves and are CSRF-exempt. Passing them through that middleware cost about
0.1 ms of Python per request, a fifth of an inbound webhook's time in its process. They
keep `MACHINE_MIDDLEWARE` (security headers, the HTTPS redirect, the Host check) and
everything else about Django's request cycle: the same URLs, views, signals and errors.
"""

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest
from django.urls import ResolverMatch, URLResolver, get_resolver

import hiretext

WEBHOOK_PREFIX = "/webhooks/"
API_PREFIX = "/api/"

StartResponse = Callable[..., Any]


# Paths resolved by a machine handler, kept: far fewer than there are requests.
RESOLVED_KEPT = 1024


class MachineMiddleware(BaseHandler):
    """A handler whose chain is `settings.MACHINE_MIDDLEWARE` instead of `MIDDLEWARE`, and
    which resolves a path once.

    Django resolves every request's path again, through each level of patterns (10 to
    25 µs for an inbound webhook here, 2 to 4 % of its time in its process). Webhooks and
    API calls repeat a few paths, so their matches are kept, per URLconf, up to
    `RESOLVED_KEPT` paths (then forgotten all at once); a path that matches nothing is
    resolved each time.
    """

    _resolved: dict[tuple[URLResolver, str], ResolverMatch]

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE, read here once, at start.
        browser = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.MACHINE_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = browser
        self._resolved = {}

    def resolve_request(self, request: HttpRequest) -> ResolverMatch:
        if hasattr(request, "urlconf"):  # set by a middleware: Django's own way
            return super().resolve_request(request)
        key = (get_resolver(), request.path_info)
        match = self._resolved.get(key)
        if match is None:
            match = super().resolve_request(request)  # Resolver404 when nothing matches
            if len(self._resolved) >= RESOLVED_KEPT:
                self._resolved.clear()
            self._resolved[key] = match
        request.resolver_match = match
        return match


class MachineHandler(MachineMiddleware, WSGIHandler):
    pass


def is_machine_request(environ: dict[str, Any]) -> bool:
    """A webhook, or an API call with a bearer token and no session cookie.

    A request that carries the session cookie keeps the browser stack, so the API's
    session authentication (and its CSRF check) sees the signed-in user as before.
    """
    path = environ.get("PATH_INFO", "")
    if path.startswith(WEBHOOK_PREFIX):
        return True
    if not path.startswith(API_PREFIX):
        return False
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if authorization[:7].lower() != "bearer ":
        return False
    return f"{settings.SESSION_COOKIE_NAME}=" not in environ.get("HTTP_COOKIE", "")


class Application:
    """The WSGI application: each request to the handler whose middleware it needs."""

    def __init__(self) -> None:
        self.browser = WSGIHandler()
        self.machine = MachineHandler()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        handler = self.machine if is_machine_request(environ) else self.browser
        return handler(environ, start_response)


# Packages and modules a request never imports: tests, migrations, commands, the console script.
_NOT_SERVED = frozenset({"tests", "migrations", "management", "__main__"})


def preload() -> None:
    """Import now what requests would otherwise import on a worker's first request: the
    URLconf with every view and the API, and our modules that views import where they run.

    The server loads the application once and forks its workers from it, and recycles
    each after `HIRETEXT_MAX_REQUESTS`. Without this, a new worker's first webhook took
    0.84 s importing 273 modules, and under even load the workers come to their recycling
    at about the same time: one benchmark run in five had a p99 of 0.2–0.6 s from that
    (BENCHMARKS-HISTORY.md). Imported before the fork, the modules are also shared memory.
    """
    get_resolver().url_patterns  # noqa: B018 - loading the URLconf imports every view
    for name in _served_modules():
        importlib.import_module(name)


def _served_modules(
    path: Iterable[str] = hiretext.__path__, prefix: str = "hiretext."
) -> Iterator[str]:
    """Our modules, packages first, without descending into what requests never import."""
    for module in pkgutil.iter_modules(path, prefix):
        if module.name.rpartition(".")[2] in _NOT_SERVED:
            continue
        yield module.name
        if module.ispkg:
            package = importlib.import_module(module.name)
            yield from _served_modules(package.__path__, module.name + ".")
