"""The problem document (RFC 9457, Belgif), as it is published in the OpenAPI description."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from rp_api.schemas.base import ApiModel


class InputIssue(ApiModel):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:problem-type:belgif:input-validation:invalidStructure",
                    "href": "https://www.belgif.be/specification/rest/api-guide/issues/invalidStructure.html",
                    "title": "Invalid structure",
                    "detail": "ssin has an invalid checksum",
                    "in": "body",
                    "name": "ssin",
                }
            ]
        },
    )

    type: str = Field(description="URN of the issue type.")
    href: str | None = None
    title: str
    detail: str | None = None
    in_: str | None = Field(default=None, alias="in", description="body, path, query or header.")
    name: str | None = Field(default=None, description="Where in that location: a field path or a parameter.")
    value: Any = Field(default=None, description="The refused value; never echoed for body fields.")


class Problem(ApiModel):
    """An error answer, media type ``application/problem+json``."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:problem-type:belgif:resourceNotFound",
                    "href": "https://www.belgif.be/specification/rest/api-guide/problems/resourceNotFound.html",
                    "title": "Resource Not Found",
                    "status": 404,
                    "detail": "The requested resource cannot be found",
                    "instance": "urn:uuid:1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b",
                }
            ]
        },
    )

    type: str = Field(description="URN of the problem type, or about:blank.")
    href: str | None = Field(default=None, description="Documentation of the problem type.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    instance: str | None = Field(default=None, description="urn:uuid: of this occurrence (its trace id).")
    issues: list[InputIssue] | None = Field(default=None, description="Why the input was refused.")
