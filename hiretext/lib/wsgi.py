"""Two middleware stacks: the browser's, and a lean one for machine-to-machine requests.

Carrier and e-mail webhooks, and API calls that carry a bearer token and no session
cookie, use nothing the browser middleware provides (sessions, CSRF, the signed-in user,
flash messages, htmx, the organisation's time zone): their views check a signature or a
token themselves and are CSRF-exempt. Passing them through that middleware cost about
0.1 ms of Python per request, a fifth of an inbound webhook's time in its process. They
keep `MACHINE_MIDDLEWARE` (security headers, the HTTPS redirect, the Host check) and
everything else about Django's request cycle: the same URLs, views, signals and errors.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIHandler

WEBHOOK_PREFIX = "/webhooks/"
API_PREFIX = "/api/"

StartResponse = Callable[..., Any]


class MachineMiddleware(BaseHandler):
    """A handler whose chain is `settings.MACHINE_MIDDLEWARE` instead of `MIDDLEWARE`."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE, read here once, at start.
        browser = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.MACHINE_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = browser


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
