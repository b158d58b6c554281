"""The OpenAPI description: FastAPI's, with Belgif problems in place of FastAPI's 422 validation errors.

``rp-api openapi`` writes it to ``openapi/openapi.yaml``; a test fails when the committed file drifts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from rp_api.problems import PROBLEM_MEDIA_TYPE

COMMITTED_PATH = Path("openapi") / "openapi.yaml"
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def build(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status, description in _input_problems(operation):
                responses.setdefault(status, _problem_reference(description))
            for response in responses.values():
                _problem_content_only(response)
            operation["responses"] = dict(sorted(responses.items()))
    schemas = document.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    for schema in schemas.values():
        # A named enumeration (OrganisationType, Role...) is exemplified by its own values.
        if "enum" in schema and "examples" not in schema:
            schema["examples"] = list(schema["enum"])
    return document


def _input_problems(operation: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if operation.get("parameters") or operation.get("requestBody"):
        found.append(("400", "The input is not valid: see `issues`."))
    if operation.get("requestBody"):
        found.append(("413", "The body is larger than the service accepts."))
        found.append(("415", "The body is not application/json."))
    return found


def _problem_reference(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _problem_content_only(response: dict[str, Any]) -> None:
    """A response documented with the problem media type carries only that one (not application/json too)."""
    content = response.get("content", {})
    if PROBLEM_MEDIA_TYPE in content and "application/json" in content:
        schema = content.pop("application/json").get("schema")
        content[PROBLEM_MEDIA_TYPE] = {"schema": schema}


def install(app: FastAPI) -> None:
    def cached_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = cached_openapi  # type: ignore[method-assign]


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so descriptions read as written."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def to_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
