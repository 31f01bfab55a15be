"""The REST API object, its authentication and the one mapping of errors to problem+json."""

import json
import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from hiretext.accounts.models import Organization, User
from hiretext.accounts.services import user_for_token
from hiretext.lib.errors import DomainError, PermissionDenied

log = logging.getLogger(__name__)

PROBLEM_TYPE = "https://hiretext.dev/problems/"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Request too large",
    422: "Unprocessable request",
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


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if len(token) > 200:
            return None
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session, with Django's CSRF check on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if isinstance(user, User) and user.is_authenticated:
            return user
        return None


api = NinjaAPI(
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
    if not user.has_perm(f"accounts.{codename}"):
        raise PermissionDenied()
    return user


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    extra = {"errors": exc.errors} if exc.errors else {}
    return problem(exc.status, exc.code, exc.message, **extra)


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
    return problem(401, "unauthenticated", "Log in or send a valid bearer token.")


@api.exception_handler(AuthorizationError)
def _forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return problem(403, "permission_denied", "You do not have permission to do that.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(404, "not_found", "Not found.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 403:
        return problem(403, "permission_denied", "CSRF check failed or permission denied.")
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
    from hiretext.api import accounts, ats

    api.add_router("", accounts.router)
    api.add_router("", ats.router)
