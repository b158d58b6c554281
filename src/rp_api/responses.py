"""The answer of an endpoint that returns one of our schemas, and of a list that also speaks CSV."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from pydantic import BaseModel
from starlette.requests import Request
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


PageT = TypeVar("PageT", bound=BaseModel)


def self_link(request: Request) -> str:
    """The page's own link: its path and query as the caller sent them."""
    return str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")


def list_answer(request: Request, page: PageT, as_csv: Callable[[PageT], str]) -> Response:
    """A list page (decisions, hours, follow-up) as the caller asks it: CSV with ``Accept: text/csv`` (the next
    page in the ``Link`` header), else JSON."""
    if "text/csv" in request.headers.get("accept", ""):
        following = getattr(page, "next", None)
        headers = {"Link": f'<{following}>; rel="next"'} if following else {}
        return Response(as_csv(page), media_type="text/csv; charset=utf-8", headers=headers)
    return ModelResponse(page)
