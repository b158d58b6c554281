"""Base classes of every request and response model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """A JSON document of the API: lowerCamelCase on the wire, unknown fields refused (``unknownInput``)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        ser_json_timedelta="iso8601",
    )
