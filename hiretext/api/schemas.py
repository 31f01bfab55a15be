"""Shared API shapes."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Text100 = Annotated[str, StringConstraints(max_length=100)]
Text254 = Annotated[str, StringConstraints(max_length=254)]
Text500 = Annotated[str, StringConstraints(max_length=500)]


class Strict(BaseModel):
    """Request bodies: unknown fields and wrong types are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", strict=True)
