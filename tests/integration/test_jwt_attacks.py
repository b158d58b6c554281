"""The JWT attack catalogue over HTTP, against one endpoint of each kind (a person named in the body, a dossier in
the path, a list): each attack gets its status and problem type, the answer never echoes the token, and nothing
happens on the attacker's behalf — no authentic source is asked, no dossier is opened, no audit record names the
person."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import SimulatedPerson
from tests.jwt_attacks import FORBIDDEN, attacks
from tests.token_factory import TokenFactory

ENDPOINTS = ("POST /rp/v1/dossiers", "GET /rp/v1/dossiers/7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a", "GET /rp/v1/decisions")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_every_attack_is_refused_and_leaves_no_trace(
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    person: SimulatedPerson,
    simulator: SimulatorState,
    connection: AsyncConnection,
    endpoint: str,
) -> None:
    method, path = endpoint.split(" ")
    for name, token, expected in attacks(tokens):
        response = await client.request(
            method,
            path + ("?week=2026-W01" if path.endswith("decisions") else ""),
            json={"ssin": person.ssin} if method == "POST" else None,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert (response.status_code, response.json()["type"]) == (403 if expected == FORBIDDEN else 401, expected), (
            name
        )
        assert response.headers["content-type"] == "application/problem+json", name
        if expected != FORBIDDEN:
            assert response.headers["www-authenticate"].startswith("Bearer"), name
        assert token[-20:] not in response.text, name
        assert person.ssin not in response.text, name
    assert dict(simulator.calls) == {}
    assert await connection.scalar(text("SELECT count(*) FROM dossier")) == 0
    assert await connection.scalar(text("SELECT count(*) FROM audit_event")) == 0
