"""Django's test client, routing each request as `config.wsgi` does.

Webhooks and bearer-token API calls go through `settings.MACHINE_MIDDLEWARE`, the rest
through `settings.MIDDLEWARE`, so every test of a webhook or of the API exercises the
middleware it meets in production.
"""

from typing import Any

from django.test import Client
from django.test.client import ClientHandler

from hiretext.lib.wsgi import MachineMiddleware, is_machine_request


class _MachineClientHandler(MachineMiddleware, ClientHandler):
    pass


class _RoutingClientHandler:
    def __init__(self, enforce_csrf_checks: bool = True, *args: Any, **kwargs: Any) -> None:
        self.browser = ClientHandler(enforce_csrf_checks, *args, **kwargs)
        self.machine = _MachineClientHandler(enforce_csrf_checks, *args, **kwargs)
        self.handled: list[str] = []  # "machine" or "browser", per request

    def __call__(self, environ: dict[str, Any]) -> Any:
        machine = is_machine_request(environ)
        self.handled.append("machine" if machine else "browser")
        return (self.machine if machine else self.browser)(environ)


class RoutingClient(Client):
    def __init__(self, enforce_csrf_checks: bool = False, **kwargs: Any) -> None:
        super().__init__(enforce_csrf_checks, **kwargs)
        self.handler = _RoutingClientHandler(enforce_csrf_checks)  # type: ignore[assignment]
