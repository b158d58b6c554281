"""eHealth's blinded pseudonymisation: the curve maths against eHealth's helpers' vectors, the blinding (what the
service sees, what the client gets), the answers the client refuses, and the simulator's domain keys."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import respx
from Crypto.PublicKey import ECC

from rp_api.clients import Upstreams
from rp_api.clients.base import UpstreamBadResponse
from rp_api.clients.blinding import (
    CURVE_B,
    FIELD_PRIME,
    MAX_VALUE_BYTES,
    ORDER,
    decode_point,
    encode_coordinate,
    encode_point,
    pseudonym_text,
    ssin_point,
    unblind,
    value_point,
)
from rp_api.settings import SimulatorSettings, UpstreamSettings
from rp_api.simulator.app import create_simulator_app
from rp_api.simulator.population import Population, build_population

BASE = "https://sources.test"
PATH = "/ehealth/pseudo/v1/domains/{domain}/pseudonymize"
SSIN = "85073003328"
KEYS = {"trio": 0x5EC2E7 * 10**140 + 1, "other": 0xD0_4A1 * 10**150 + 3}
"""The domains' secret keys of the mocked service."""

# eHealth's helpers' vectors (Smals' Java helper tests and the cookbook examples of the TypeScript port): a value,
# the x and y of its point (base64 of the minimal big-endian number), and for "123" a blinding scalar and r·P.
HELPER_VALUE = b"012345678910"
HELPER_X = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAMDEyMzQ1Njc4OTEwDAAAAAAAAAAB"
HELPER_Y = "ABxCeSYmGgumIwOuFyKmK1l8bilTjL+NKElpegi8mcsn3QB6grG5PHpgD8XCTPTGhDrT6HsGuEkEOVwZ23maSliV"
HELPER_SHORT = "AwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADAxMjM0NTY3ODkxMAwAAAAAAAAAAQ"
COOKBOOK = {
    b"1": (
        "MQEAAAAAAAAAAA==",
        "AIaELoSge8ZH9YhlIeahODkJDe23j1NUsQqwm32j1o+CdG6lIKhi1KqdONLRsXh+ciZjddZtm2dShPpp3K5aDxD8",
    ),
    b"123": (
        "MTIzAwAAAAAAAAAC",
        "QRJBFXWQueauTw1qeNzTM+3qZtLLbykEN8LCmrn29Nv3IXHlLFa9Hhd/iuRBHDsgv4usav38XCWgxroQ8zWruQ4=",
    ),
}
COOKBOOK_SCALAR = "AZ2TzlDmMWQW/kgJng4nThRUW149uzE+SNBUp4T0/0kRO2/zg2os/8dOEzZrvQPGgv5l0Gk68qczZjt8yfO8FRcF"
COOKBOOK_BLINDED_123 = (
    "AJDTs17IHvcNMOdK7qZjfbnze1QFoTm8HBbvTpfD3khGbM01goo+fhkJ77VsCAZGSxny/JnlG6Vy0QE8hA/fX3JL",
    "APgdC1G8Whnf/F84mrlrw5FsJxy7GTkjjuVZmXFQTGvb9A2ppoyckftqX6Da8H2jib1wJUbspxPjfXXwrB6yMRgh",
)


def number(text: str) -> int:
    return int.from_bytes(base64.b64decode(text), "big")


def test_the_curve_constants_are_the_librarys() -> None:
    generator = ECC.construct(curve="p521", d=1).pointQ
    x, y = generator.xy
    assert (y * y - (x**3 - 3 * x + CURVE_B)) % FIELD_PRIME == 0
    assert (generator * ORDER).is_point_at_infinity()
    assert not (generator * (ORDER - 1)).is_point_at_infinity()


def test_a_value_maps_to_the_point_ehealths_helpers_compute() -> None:
    point = value_point(HELPER_VALUE)
    assert point.xy == (number(HELPER_X), number(HELPER_Y))
    assert pseudonym_text(point) == HELPER_SHORT  # eHealth's asShortString
    for value, (x, y) in COOKBOOK.items():
        assert value_point(value).xy == (number(x), number(y))


def test_blinding_and_unblinding_match_the_cookbook() -> None:
    point, scalar = value_point(b"123"), number(COOKBOOK_SCALAR)
    blinded = decode_point(*COOKBOOK_BLINDED_123)  # minimal-length base64 is accepted too
    assert point * scalar == blinded
    assert blinded * pow(scalar, -1, ORDER) == point


def test_a_value_too_long_for_the_curve_is_refused() -> None:
    value_point(b"9" * MAX_VALUE_BYTES)
    with pytest.raises(ValueError, match="at most"):
        value_point(b"9" * (MAX_VALUE_BYTES + 1))


def evaluate(request: httpx.Request) -> httpx.Response:
    """The mocked service: k·(the point received), with the domain's key from the path."""
    domain = request.url.path.split("/")[-2]
    body = json.loads(request.content)
    x, y = encode_point(decode_point(body["x"], body["y"]) * KEYS[domain])
    return httpx.Response(200, json={"domain": domain, "crv": "P-521", "x": x, "y": y, "transitInfo": "ignored"})


@pytest.fixture
async def upstreams() -> AsyncIterator[Upstreams]:
    async with httpx.AsyncClient() as http:
        yield Upstreams.build(http, UpstreamSettings(timeout_s=0.5, retries=2, backoff_s=0.001).with_base(BASE))


@respx.mock
async def test_the_pseudonym_is_the_domain_key_applied_to_the_ssins_point(upstreams: Upstreams) -> None:
    route = respx.post(url__regex=rf"{BASE}/ehealth/pseudo/v1/domains/\w+/pseudonymize").mock(side_effect=evaluate)
    first = await upstreams.pseudonymisation.pseudonym(ssin=SSIN, domain="trio", trace_id=None)
    second = await upstreams.pseudonymisation.pseudonym(ssin=SSIN, domain="trio", trace_id=None)
    other = await upstreams.pseudonymisation.pseudonym(ssin=SSIN, domain="other", trace_id=None)
    someone_else = await upstreams.pseudonymisation.pseudonym(ssin="85073003427", domain="trio", trace_id=None)

    assert first.pseudonym == pseudonym_text(ssin_point(SSIN) * KEYS["trio"])  # k·H(ssin), computed directly
    assert (first.domain, second) == ("trio", first)  # the same SSIN in the same domain: the same pseudonym
    assert other.pseudonym == pseudonym_text(ssin_point(SSIN) * KEYS["other"]) != first.pseudonym
    assert someone_else.pseudonym != first.pseudonym

    sent = [json.loads(call.request.content) for call in route.calls]
    assert sent[0]["x"] != sent[1]["x"]  # two blindings of the same SSIN: unrelated points on the wire
    assert all(set(body) == {"crv", "x", "y"} for body in sent)
    for body in sent[:3]:
        assert SSIN not in json.dumps(body)
        assert SSIN.encode() not in base64.b64decode(body["x"])  # P's x carries the SSIN; r·P's does not
        assert decode_point(body["x"], body["y"]) != ssin_point(SSIN)


def answering(body: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _: httpx.Response(200, json=body)


def echo(request: httpx.Request) -> httpx.Response:
    """A service that applies no key: the blinded point back."""
    return httpx.Response(200, json={"domain": "trio", **json.loads(request.content)})


def negated(request: httpx.Request) -> httpx.Response:
    """A service whose key is n − 1: −r·P, which unblinds to −P (the same x, so the same SSIN in it)."""
    body = json.loads(request.content)
    x, y = encode_point(decode_point(body["x"], body["y"]) * (ORDER - 1))
    return httpx.Response(200, json={"domain": "trio", "crv": "P-521", "x": x, "y": y})


GOOD_X, GOOD_Y = encode_point(value_point(b"elsewhere") * 3)
BAD_ANSWERS: dict[str, Callable[[httpx.Request], httpx.Response]] = {
    "not on the curve": answering({"domain": "trio", "x": encode_coordinate(1), "y": encode_coordinate(1)}),
    "y of another point": answering({"domain": "trio", "x": GOOD_X, "y": encode_point(value_point(b"x"))[1]}),
    "x beyond the field": answering(
        {"domain": "trio", "x": encode_coordinate(number(GOOD_X) + FIELD_PRIME), "y": GOOD_Y}
    ),
    "too long": answering({"domain": "trio", "x": base64.b64encode(bytes(70)).decode(), "y": GOOD_Y}),
    "the point at infinity": answering({"domain": "trio", "x": encode_coordinate(0), "y": encode_coordinate(0)}),
    "not base64": answering({"domain": "trio", "x": "not base64!", "y": GOOD_Y}),
    "empty": answering({"domain": "trio", "x": "", "y": GOOD_Y}),
    "another domain": answering({"domain": "other", "x": GOOD_X, "y": GOOD_Y}),
    "another curve": answering({"domain": "trio", "crv": "P-256", "x": GOOD_X, "y": GOOD_Y}),
    "no coordinates": answering({"domain": "trio", "pseudonym": "p-7f3a"}),
    "no key applied": echo,
    "the key n - 1": negated,
}


@pytest.mark.parametrize("answer", list(BAD_ANSWERS.values()), ids=list(BAD_ANSWERS))
@respx.mock
async def test_an_answer_that_is_no_pseudonym_is_a_bad_response(
    upstreams: Upstreams, answer: Callable[[httpx.Request], httpx.Response]
) -> None:
    route = respx.post(f"{BASE}{PATH.format(domain='trio')}").mock(side_effect=answer)
    with pytest.raises(UpstreamBadResponse) as caught:
        await upstreams.pseudonymisation.pseudonym(ssin=SSIN, domain="trio", trace_id=None)
    assert route.call_count == 1  # final: not retried
    assert SSIN not in str(caught.value)


def test_unblinding_refuses_the_ssins_own_point() -> None:
    point = ssin_point(SSIN)
    with pytest.raises(ValueError, match="no key"):
        unblind(point * 5, 5, point)
    assert unblind(point * 10, 5, point) == point * 2


@pytest.fixture(scope="module")
def population() -> Population:
    return build_population()


@pytest.fixture
async def simulated(population: Population) -> AsyncIterator[tuple[Upstreams, Any]]:
    simulator = create_simulator_app(SimulatorSettings(), population)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator)) as http:
        yield Upstreams.build(http, UpstreamSettings().with_base("http://simulator.test")), simulator.state.simulator


async def test_the_simulator_applies_a_domain_key_and_trio_finds_the_person(
    simulated: tuple[Upstreams, Any], population: Population
) -> None:
    upstreams, state = simulated
    with_dossier = next(p for p in population.persons.values() if p.trio_dossier)
    without = next(p for p in population.persons.values() if not p.trio_dossier)
    for person, expected in ((with_dossier, True), (without, False)):
        pseudonym = await upstreams.pseudonymisation.pseudonym(ssin=person.ssin, domain="trio", trace_id=None)
        assert pseudonym.pseudonym == population.pseudonym(person.ssin, "trio")
        assert population.person_of_pseudonym(pseudonym.pseudonym, "trio") == person
        assert await upstreams.trio.dossier_exists(pseudonym=pseudonym.pseudonym, trace_id=None) is expected
    received = b"".join(call.body for call in state.received["pseudonymisation"])
    assert len(state.received["pseudonymisation"]) == 2
    assert with_dossier.ssin.encode() not in received
    assert without.ssin.encode() not in received


async def test_the_simulator_accepts_no_ssin(simulated: tuple[Upstreams, Any]) -> None:
    upstreams, _ = simulated
    http = upstreams.pseudonymisation.http
    for body in ({"ssin": SSIN}, {"x": encode_coordinate(1), "y": encode_coordinate(1)}, [1, 2]):
        response = await http.post(f"http://simulator.test{PATH.format(domain='trio')}", json=body)
        assert response.status_code == 400, body


def test_the_simulated_domain_keys_are_stable_and_distinct(population: Population) -> None:
    again = build_population()
    assert population.domain_key("trio") == again.domain_key("trio")
    assert population.pseudonym(SSIN, "trio") == again.pseudonym(SSIN, "trio")
    assert population.domain_key("trio") != population.domain_key("other")
    assert build_population(seed=1).domain_key("trio") != population.domain_key("trio")
    assert 1 <= population.domain_key("trio") < ORDER
