"""Authentication over HTTP: /rp/v1/me, every problem answer, and protection of every /rp/v1 route by default."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from rp_api.authz.tokens import KBO_CLAIM
from tests.token_factory import USER_SSIN, TokenFactory


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_me_returns_the_principal(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    token = tokens.token("Solidaris", ["returnToWorkCoordinator", "administrative"], jti="token-42")
    response = await client.get("/rp/v1/me", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    organisation = tokens.organisation("Solidaris")
    assert body["organisation"] == {
        "type": "insurer",
        "enterpriseNumber": organisation.enterprise_number,
        "name": "Solidaris",
        "oaNumber": 300,
    }
    assert body["userSsin"] == USER_SSIN
    assert body["roles"] == ["administrative", "returnToWorkCoordinator"]
    assert body["issuer"] == "umanEhealth"
    assert body["tokenId"] == "token-42"
    assert response.headers["BelGov-Trace-Id"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer "}, {"Authorization": "Basic dXNlcjpwYXNz"}],
)
async def test_no_token(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/rp/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["type"] == "urn:problem-type:belgif:noAccessToken"


async def test_invalid_expired_and_forbidden(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    now = int(time.time())
    cases = [
        ("a.b.c", 401, "invalidAccessToken"),
        (tokens.token(aud="someone-else"), 401, "invalidAccessToken"),
        (tokens.token(exp=now - 300, iat=now - 900, nbf=now - 900), 401, "expiredAccessToken"),
        (tokens.token("VDAB", ["medicalAdvisor"]), 403, "missingPermission"),
        (tokens.token(**{KBO_CLAIM: "0200000142"}), 403, "missingPermission"),
    ]
    for token, status, problem in cases:
        response = await client.get("/rp/v1/me", headers=bearer(token))
        assert response.status_code == status, problem
        body = response.json()
        assert body["type"] == f"urn:problem-type:belgif:{problem}"
        assert token not in response.text
        assert USER_SSIN not in response.text


async def test_rejected_token_is_logged_by_reason_only(
    client: httpx.AsyncClient, tokens: TokenFactory, logged: Callable[[], list[dict[str, Any]]]
) -> None:
    token = tokens.token(aud="someone-else")
    await client.get("/rp/v1/me", headers=bearer(token))
    lines = logged()
    rejected = [line for line in lines if line["event"] == "token_rejected"]
    assert rejected
    assert rejected[-1]["reason"] == "aud"
    assert rejected[-1]["logger"] == "rp_api.authz.tokens"
    assert token not in repr(lines)
    assert USER_SSIN not in repr(lines)


async def test_every_api_route_requires_a_token(app: FastAPI, client: httpx.AsyncClient) -> None:
    operations = [
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        if path.startswith("/rp/v1")
        for method in item
    ]
    assert operations, "no /rp/v1 operation"
    for method, template in operations:
        path = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", template)
        response = await client.request(method, path, json={} if method in ("POST", "PUT", "PATCH") else None)
        assert response.status_code == 401, f"{method} {template} answers without a token"
        assert response.json()["type"] == "urn:problem-type:belgif:noAccessToken"


async def test_operations_declare_the_bearer_scheme(app: FastAPI) -> None:
    document = app.openapi()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for operation in item.values():
            if path.startswith("/rp/v1"):
                assert operation["security"] == [{"HTTPBearer": []}]
                assert {"401", "403"} <= set(operation["responses"])
