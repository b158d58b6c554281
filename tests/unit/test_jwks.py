"""Key fetching: parsed once, refetched on an unknown kid at most once per interval, one fetch for many callers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import respx

from rp_api.authz.jwks import JwksFile, JwksUrl, KeySet
from tests.token_factory import TokenFactory

URL = "https://keys.test/jwks"


@pytest.fixture(scope="module")
def factory() -> TokenFactory:
    return TokenFactory()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@respx.mock
async def test_keys_are_fetched_once_and_parsed_once(factory: TokenFactory) -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(200, json=factory.jwks()))
    async with httpx.AsyncClient() as http:
        keys = KeySet(JwksUrl(URL, http), refresh_interval_s=60)
        first = await keys.key_for("rsa-1", "RS256")
        second = await keys.key_for("rsa-1", "RS256")
    assert first is not None
    assert first is second
    assert route.call_count == 1


@respx.mock
async def test_a_flood_of_unknown_kids_costs_one_fetch_per_interval(factory: TokenFactory) -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(200, json=factory.jwks()))
    clock = Clock()
    async with httpx.AsyncClient() as http:
        keys = KeySet(JwksUrl(URL, http), refresh_interval_s=60, clock=clock)
        assert await keys.key_for("rsa-1", "RS256") is not None
        results = await asyncio.gather(*(keys.key_for(f"invented-{n}", "RS256") for n in range(200)))
        assert results == [None] * 200
        assert route.call_count == 1  # the first fetch was less than 60 s ago: no refetch at all

        clock.now += 61
        await asyncio.gather(*(keys.key_for(f"invented-{n}", "RS256") for n in range(200)))
        assert route.call_count == 2  # one refetch for all 200 callers


@respx.mock
async def test_concurrent_first_use_shares_one_fetch(factory: TokenFactory) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return httpx.Response(200, json=factory.jwks())

    route = respx.get(URL).mock(side_effect=slow)
    async with httpx.AsyncClient() as http:
        keys = KeySet(JwksUrl(URL, http), refresh_interval_s=60)
        found = await asyncio.gather(*(keys.key_for("rsa-1", "RS256") for _ in range(50)))
    assert all(key is not None for key in found)
    assert route.call_count == 1


@respx.mock
async def test_rotated_key_is_picked_up_after_the_interval(factory: TokenFactory) -> None:
    old = factory.jwks()
    rotated = {"keys": [{**old["keys"][0], "kid": "rsa-2"}]}
    route = respx.get(URL).mock(side_effect=[httpx.Response(200, json=old), httpx.Response(200, json=rotated)])
    clock = Clock()
    async with httpx.AsyncClient() as http:
        keys = KeySet(JwksUrl(URL, http), refresh_interval_s=60, clock=clock)
        assert await keys.key_for("rsa-1", "RS256") is not None
        clock.now += 60
        assert await keys.key_for("rsa-2", "RS256") is not None
    assert route.call_count == 2


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(503), httpx.Response(200, text="<html>"), httpx.Response(200, json={"no": "keys"})],
)
@respx.mock
async def test_failed_refetch_keeps_known_keys(factory: TokenFactory, failure: httpx.Response) -> None:
    respx.get(URL).mock(side_effect=[httpx.Response(200, json=factory.jwks()), failure])
    clock = Clock()
    async with httpx.AsyncClient() as http:
        keys = KeySet(JwksUrl(URL, http), refresh_interval_s=1, clock=clock)
        assert await keys.key_for("rsa-1", "RS256") is not None
        clock.now += 2
        assert await keys.key_for("unknown", "RS256") is None
        assert await keys.key_for("rsa-1", "RS256") is not None


@respx.mock
async def test_unreachable_provider_means_no_key() -> None:
    respx.get(URL).mock(side_effect=httpx.ConnectError("refused"))
    async with httpx.AsyncClient() as http:
        keys = KeySet(JwksUrl(URL, http), refresh_interval_s=60)
        assert await keys.key_for("rsa-1", "RS256") is None


async def test_key_type_must_fit_the_algorithm(factory: TokenFactory, tmp_path: Path) -> None:
    keys = KeySet(JwksFile(factory.write_jwks(tmp_path / "jwks.json")), refresh_interval_s=60)
    assert await keys.key_for("rsa-1", "ES256") is None  # an RSA key is no EC key
    assert await keys.key_for("ec-1", "RS256") is None
    assert await keys.key_for("ec-1", "ES256") is not None
    assert await keys.key_for("rsa-1", "PS256") is not None


async def test_key_marked_for_another_algorithm_or_use_is_ignored(factory: TokenFactory, tmp_path: Path) -> None:
    entries = factory.jwks()["keys"]
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**entries[0], "alg": "RS256"}, {**entries[1], "use": "enc"}]}))
    keys = KeySet(JwksFile(path), refresh_interval_s=60)
    assert await keys.key_for("rsa-1", "RS256") is not None
    assert await keys.key_for("rsa-1", "PS256") is None
    assert await keys.key_for("ec-1", "ES256") is None


async def test_without_kid_only_a_single_candidate_is_used(factory: TokenFactory, tmp_path: Path) -> None:
    keys = KeySet(JwksFile(factory.write_jwks(tmp_path / "jwks.json")), refresh_interval_s=60)
    assert await keys.key_for(None, "ES256") is not None
    path = tmp_path / "two.json"
    rsa = factory.jwks()["keys"][0]
    path.write_text(json.dumps({"keys": [rsa, {**rsa, "kid": "rsa-2"}]}))
    assert await KeySet(JwksFile(path), refresh_interval_s=60).key_for(None, "RS256") is None
