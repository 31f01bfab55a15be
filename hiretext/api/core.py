"""The REST API object, its authentication and the one mapping of errors to problem+json."""

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.security import APIKeyCookie, HttpBearer

from hiretext.accounts.models import Organization, User
from hiretext.accounts.permission_cache import with_cached_permissions
from hiretext.accounts.services import user_for_token
from hiretext.accounts.throttle import TooManyAttempts
from hiretext.lib.errors import DomainError, PermissionDenied

log = logging.getLogger(__name__)

PROBLEM_TYPE = "https://hiretext.dev/problems/"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal error",
}


def problem(status: int, code: str, detail: str, **extra: Any) -> HttpResponse:
    body = {
        "type": PROBLEM_TYPE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")


_RENDERER = JSONRenderer()  # the API's (ProblemAPI keeps ninja's default)


def rendered(
    request: HttpRequest, response: HttpResponse, data: Any, *, status: int
) -> HttpResponse:
    """`data` answered as ninja answers a view's result, without validating it against the
    operation's response schema again: for a hot path whose body is built from our own
    values (a test checks that it stays what the schema gives). `response` is the
    operation's own (a view's `response: HttpResponse` argument), filled in rather than
    a second one built."""
    response.content = _RENDERER.render(request, data, response_status=status)
    response.status_code = status
    return response


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if len(token) > 200:
            return None
        user = user_for_token(token)
        if user is not None:
            request.user = with_cached_permissions(user)
        return user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session, with Django's CSRF check on unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a live session there is nothing to protect: the caller is simply
        # unauthenticated (401), not a forged browser request (403).
        user = getattr(request, "user", None)
        if not request.COOKIES.get(self.param_name) or not (user and user.is_authenticated):
            return None
        try:
            return super()._get_key(request)
        except HttpError as exc:
            raise DomainError(
                "csrf_failed",
                "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header.",
                status=403,
            ) from exc

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if isinstance(user, User) and user.is_authenticated:
            return with_cached_permissions(user)
        return None


def _problem_for_not_allowed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Ninja answers a wrong method with a bare 405 (and its root with an HTML 404); ours are
    problem+json like every other error."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            response = view(request, *args, **kwargs)
        except Http404:  # the API root and docs views raise Django's HTML 404
            return unknown_route(request)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = problem(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {allowed}.",
            )
            response["Allow"] = allowed
        return response

    return wrapper


@csrf_exempt
def unknown_route(request: HttpRequest, rest: str = "") -> HttpResponse:
    return problem(404, "not_found", f"There is no API route {request.path}; see /api/v1/docs.")


class ProblemAPI(NinjaAPI):
    """NinjaAPI whose every answer, wrong method and unknown route included, is problem+json."""

    def create_temporal_response(self, request: HttpRequest) -> HttpResponse:
        # Ninja's, with the charset given: a response that is not told its charset looks it
        # up in the settings and parses its content type each time it encodes a body.
        return HttpResponse(
            b"", content_type=self.get_content_type(), charset=self.renderer.charset
        )

    def _get_urls(self) -> list[URLPattern | URLResolver]:
        urls = super()._get_urls()
        for url in urls:
            if isinstance(url, URLPattern):
                url.callback = _problem_for_not_allowed(url.callback)
        urls.append(re_path(r"^(?P<rest>.*)$", unknown_route))
        return urls


api = ProblemAPI(
    title="hiretext API",
    version="1",
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def current_user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def current_org(request: HttpRequest) -> Organization:
    org = current_user(request).organization
    if org is None:
        raise PermissionDenied("This account does not belong to an organisation.")
    return org


def require_perm(request: HttpRequest, codename: str) -> User:
    """The caller, if it has `accounts.<codename>`; otherwise permission_denied."""
    user = current_user(request)
    if user.organization_id is None:
        raise PermissionDenied("This account does not belong to an organisation.")
    if not user.has_perm(f"accounts.{codename}"):
        raise PermissionDenied()
    return user


def _challenge(response: HttpResponse) -> HttpResponse:
    """A 401 names the scheme to use (RFC 9110)."""
    response["WWW-Authenticate"] = 'Bearer realm="hiretext"'
    return response


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    extra = {"errors": exc.errors} if exc.errors else {}
    response = problem(exc.status, exc.code, exc.message, **extra)
    if isinstance(exc, TooManyAttempts):
        response["Retry-After"] = str(exc.retry_after)
    return _challenge(response) if exc.status == 401 else response


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        errors.append({"field": ".".join(loc), "message": str(err.get("msg", "invalid"))})
    first = errors[0] if errors else {"field": "", "message": "invalid"}
    detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return problem(400, "validation_error", detail, errors=errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _challenge(problem(401, "unauthenticated", "Log in or send a valid bearer token."))


@api.exception_handler(AuthorizationError)
def _forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return problem(403, "permission_denied", "You do not have permission to do that.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(404, "not_found", "Not found.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 403:
        return problem(403, "permission_denied", "You do not have permission to do that.")
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        return problem(400, "validation_error", "The request body is not valid JSON.")
    code = "validation_error" if exc.status_code < 500 else "internal_error"
    return problem(exc.status_code, code, str(exc))


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return problem(413, "request_too_large", "The request body is too large.")


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("Unhandled API error")
    return problem(500, "internal_error", "Something went wrong on our side.")


def register_routers() -> None:
    from hiretext.api import accounts, ats, carrier, messaging, numbers

    # Messaging first: the send and the conversations are the busiest calls, and Django
    # tries the API's paths in this order (each earlier path is one more failed match).
    api.add_router("", messaging.router)
    api.add_router("", accounts.router)
    api.add_router("", ats.router)
    api.add_router("", numbers.router)
    api.add_router("", carrier.router)
