"""The answer of an endpoint that returns one of our schemas."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel
from starlette.responses import Response


class ModelResponse(Response):
    """A schema as JSON, without the fields that were never set (the ones the caller may not see).

    pydantic writes the bytes itself (``model_dump_json``): no intermediate dict, no second encoder. The same
    compact UTF-8 JSON as Starlette's ``JSONResponse`` gives of ``model_dump(mode="json")``.
    """

    media_type = "application/json"

    def __init__(self, model: BaseModel, *, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(
            model.model_dump_json(by_alias=True, exclude_unset=True), status_code=status_code, headers=headers
        )
