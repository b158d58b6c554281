"""The committed OpenAPI description matches the app; schemas carry examples; /docs needs no internet."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import FastAPI

from rp_api import openapi


def test_committed_openapi_matches_the_app(app: FastAPI, repo_root: Path) -> None:
    committed = (repo_root / "openapi" / "openapi.yaml").read_text(encoding="utf-8")
    generated = openapi.to_yaml(openapi.build(app))
    assert committed == generated, "openapi/openapi.yaml is stale: run `rp-api openapi` and commit it"


def test_every_schema_carries_examples(app: FastAPI) -> None:
    schemas: dict[str, Any] = app.openapi()["components"]["schemas"]
    missing = [name for name, schema in schemas.items() if not (schema.get("examples") or schema.get("example"))]
    assert not missing, f"schemas without examples: {missing}"


def test_no_fastapi_validation_error_leaks_into_the_description(app: FastAPI) -> None:
    document = app.openapi()
    text = yaml.safe_dump(document)
    assert "HTTPValidationError" not in text
    for path_item in document["paths"].values():
        for operation in path_item.values():
            # invalid input is 400 badRequest; a 422 is only the reuse of an Idempotency-Key for another request
            unprocessable = operation["responses"].get("422")
            if unprocessable is not None:
                assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"]
                examples = unprocessable["content"]["application/problem+json"]["examples"]
                assert list(examples) == ["idempotencyKeyReused"]


def test_openapi_is_served(app: FastAPI) -> None:
    assert app.openapi()["info"]["title"] == "API RP"


async def test_swagger_ui_uses_only_self_hosted_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    references = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text) + re.findall(
        r"""url:\s*['"]([^'"]+)['"]""", page.text
    )
    assert references, "the page references no asset"
    for reference in references:
        assert reference.startswith("/"), f"external reference {reference}"
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
    assert "cdn" not in page.text.lower()
    assert "validator.swagger.io" not in page.text
