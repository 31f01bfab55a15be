"""Shared API shapes."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints


def _no_nul(value: str) -> str:
    """PostgreSQL text cannot hold NUL: refuse it as bad input instead of failing later."""
    if "\x00" in value:
        raise ValueError("must not contain null characters")
    return value


Text100 = Annotated[str, StringConstraints(max_length=100), AfterValidator(_no_nul)]
Text254 = Annotated[str, StringConstraints(max_length=254), AfterValidator(_no_nul)]
Text500 = Annotated[str, StringConstraints(max_length=500), AfterValidator(_no_nul)]


class Strict(BaseModel):
    """Request bodies: unknown fields and wrong types are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", strict=True)
