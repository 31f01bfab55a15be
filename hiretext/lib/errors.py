"""Domain errors with stable codes; the API maps them to problem+json in one place."""

from typing import ClassVar


class DomainError(Exception):
    """A refusal with a stable machine `code` and a message a person can act on."""

    status: ClassVar[int] = 422
    errors: dict[str, list[str]] | None = None

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status  # type: ignore[misc]


class NotFound(DomainError):
    """Missing, or belongs to another organisation: both look the same from outside."""

    status = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__("not_found", message)


class PermissionDenied(DomainError):
    status = 403

    def __init__(self, message: str = "You do not have permission to do that.") -> None:
        super().__init__("permission_denied", message)


class Conflict(DomainError):
    status = 409


class ValidationFailed(DomainError):
    """Malformed input; `errors` maps field names to messages."""

    status = 400

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__("validation_error", message)
        self.errors = errors or {}
