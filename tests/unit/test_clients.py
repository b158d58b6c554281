"""Every authentic-source client against respx: success, not found, 5xx then success, timeout, malformed body,
and the headers every call carries."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
import respx

from rp_api.clients import Upstreams
from rp_api.clients.base import LEGAL_CONTEXT_HEADER, UpstreamBadResponse, UpstreamUnavailable
from rp_api.clients.blinding import encode_point, value_point
from rp_api.settings import UpstreamSettings

BASE = "https://sources.test"
SSIN = "85073003328"
TRACE = "9a0f8c1e-4d7b-4a4e-9a57-3c1d2f1e0b11"
TODAY = date(2026, 11, 22)
SOME_X, SOME_Y = encode_point(value_point(b"any point") * 7)
"""A point of P-521: a pseudonymisation service's answer the client accepts (what it unblinds to is random here;
the blinding itself is tested in test_pseudonymisation.py)."""


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    call: Callable[[Upstreams], Awaitable[Any]]
    body: dict[str, Any]
    expected: Any
    not_found: Any = "error"  # what a 404 gives: None when the source may not know the subject


CASES = [
    Case(
        "nationalRegister",
        "/cbss/nr/v1/persons/query",
        lambda u: u.national_register.person(ssin=SSIN, trace_id=TRACE),
        {"ssin": SSIN, "givenName": "An", "familyName": "Peeters", "birthDate": "1985-07-30", "deathDate": None},
        lambda r: (r.given_name, r.death_date, r.replaced_by) == ("An", None, None),
        not_found=None,
    ),
    Case(
        "memberData",
        "/cin/memberdata/v1/affiliations/query",
        lambda u: u.member_data.affiliation(ssin=SSIN, on=TODAY, trace_id=TRACE),
        {"ssin": SSIN, "oaNumber": 300, "since": "2010-01-01"},
        lambda r: r.oa_number == 300,
        not_found=None,
    ),
    Case(
        "dimona",
        "/daas/dimona/v1/employments/query",
        lambda u: u.dimona.current_employers(ssin=SSIN, on=TODAY, trace_id=TRACE),
        {"items": [{"enterpriseNumber": "0411159046", "name": "Bakkerij Peeters"}]},
        lambda r: [e.enterprise_number for e in r] == ["0411159046"],
    ),
    Case(
        "seedConnect",
        "/daas/seedconnect/v1/affiliations/query",
        lambda u: u.seed_connect.prevention_services(employer="0411159046", trace_id=TRACE),
        {"items": [{"enterpriseNumber": "0484833813", "name": "Idewe"}]},
        lambda r: [p.name for p in r] == ["Idewe"],
    ),
    Case(
        "jobSeeker",
        "/daas/jobseeker/v1/registrations/query",
        lambda u: u.job_seeker.registrations(ssin=SSIN, trace_id=TRACE),
        {"items": [{"regionalService": "0847877592", "registrationDate": "2026-02-01"}]},
        lambda r: r[0].registration_date == date(2026, 2, 1),
    ),
    Case(
        "pseudonymisation",
        "/ehealth/pseudo/v1/domains/trio/pseudonymize",
        lambda u: u.pseudonymisation.pseudonym(ssin=SSIN, domain="trio", trace_id=TRACE),
        {"domain": "trio", "crv": "P-521", "x": SOME_X, "y": SOME_Y},
        lambda r: r.domain == "trio" and len(r.pseudonym) == 90,
    ),
    Case(
        "trio",
        "/trio/v1/dossiers/exists",
        lambda u: u.trio.dossier_exists(pseudonym="p-7f3a", trace_id=TRACE),
        {"exists": True},
        lambda r: r is True,
    ),
]
IDS = [case.name for case in CASES]


@pytest.fixture
async def upstreams() -> Any:
    async with httpx.AsyncClient() as http:
        yield Upstreams.build(http, UpstreamSettings(timeout_s=0.2, retries=2, backoff_s=0.001).with_base(BASE))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@respx.mock
async def test_success_and_headers(upstreams: Upstreams, case: Case) -> None:
    route = respx.post(f"{BASE}{case.path}").mock(return_value=httpx.Response(200, json=case.body))
    assert case.expected(await case.call(upstreams))
    request = route.calls.last.request
    assert request.headers["BelGov-Related-Trace-Id"] == TRACE
    assert len(request.headers["BelGov-Trace-Id"]) == 36
    assert "26/060" in request.headers[LEGAL_CONTEXT_HEADER]
    assert SSIN not in str(request.url)  # identifiers travel in the body
    if case.name == "pseudonymisation":
        assert SSIN not in request.content.decode()  # only a blinded point travels


@pytest.mark.parametrize("case", CASES, ids=IDS)
@respx.mock
async def test_not_found(upstreams: Upstreams, case: Case) -> None:
    respx.post(f"{BASE}{case.path}").mock(return_value=httpx.Response(404))
    if case.not_found is None:
        assert await case.call(upstreams) is None
    else:
        with pytest.raises(UpstreamBadResponse):
            await case.call(upstreams)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@respx.mock
async def test_5xx_then_success_is_retried(upstreams: Upstreams, case: Case) -> None:
    route = respx.post(f"{BASE}{case.path}").mock(
        side_effect=[httpx.Response(503), httpx.Response(502), httpx.Response(200, json=case.body)]
    )
    assert case.expected(await case.call(upstreams))
    assert route.call_count == 3


@pytest.mark.parametrize("case", CASES, ids=IDS)
@respx.mock
async def test_persistent_failure_is_unavailable(upstreams: Upstreams, case: Case) -> None:
    route = respx.post(f"{BASE}{case.path}").mock(return_value=httpx.Response(500, text="stack trace " + SSIN))
    with pytest.raises(UpstreamUnavailable) as caught:
        await case.call(upstreams)
    assert route.call_count == 3
    assert SSIN not in str(caught.value)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@respx.mock
async def test_timeout_is_unavailable(upstreams: Upstreams, case: Case) -> None:
    route = respx.post(f"{BASE}{case.path}").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(UpstreamUnavailable):
        await case.call(upstreams)
    assert route.call_count == 3


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"unexpected": true}', b"[]"])
@respx.mock
async def test_malformed_body_is_bad_response(upstreams: Upstreams, case: Case, body: bytes) -> None:
    route = respx.post(f"{BASE}{case.path}").mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(UpstreamBadResponse):
        await case.call(upstreams)
    assert route.call_count == 1  # a wrong answer is final: not retried


async def test_unconfigured_source_is_unavailable() -> None:
    async with httpx.AsyncClient() as http:
        upstreams = Upstreams.build(http, UpstreamSettings())
        with pytest.raises(UpstreamUnavailable):
            await upstreams.national_register.person(ssin=SSIN, trace_id=None)


@respx.mock
async def test_request_body_is_the_documented_query() -> None:
    route = respx.post(f"{BASE}/cin/memberdata/v1/affiliations/query").mock(return_value=httpx.Response(404))
    async with httpx.AsyncClient() as http:
        upstreams = Upstreams.build(http, UpstreamSettings().with_base(BASE))
        await upstreams.member_data.affiliation(ssin=SSIN, on=TODAY, trace_id=None)
    assert json.loads(route.calls.last.request.content) == {"ssin": SSIN, "date": "2026-11-22"}


WITH_CONTEXT: dict[str, Callable[[Upstreams, str], Awaitable[Any]]] = {
    "nationalRegister": lambda u, c: u.national_register.person(ssin=SSIN, trace_id=None, legal_context=c),
    "memberData": lambda u, c: u.member_data.affiliation(ssin=SSIN, on=TODAY, trace_id=None, legal_context=c),
    "dimona": lambda u, c: u.dimona.current_employers(ssin=SSIN, on=TODAY, trace_id=None, legal_context=c),
    "seedConnect": lambda u, c: u.seed_connect.prevention_services(
        employer="0411159046", trace_id=None, legal_context=c
    ),
    "jobSeeker": lambda u, c: u.job_seeker.registrations(ssin=SSIN, trace_id=None, legal_context=c),
    "pseudonymisation": lambda u, c: u.pseudonymisation.pseudonym(
        ssin=SSIN, domain="trio", trace_id=None, legal_context=c
    ),
    "trio": lambda u, c: u.trio.dossier_exists(pseudonym="p-7f3a", trace_id=None, legal_context=c),
}


@pytest.mark.parametrize("case", CASES, ids=IDS)
@respx.mock
async def test_the_legal_context_given_is_the_header_sent(upstreams: Upstreams, case: Case) -> None:
    """Each call carries the legal basis it is made under (the organisation type's), on every attempt."""
    route = respx.post(f"{BASE}{case.path}").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=case.body)]
    )
    context = "deliberation CSI/CSSS 26/060, par. 15-25; actor=test"
    assert case.expected(await WITH_CONTEXT[case.name](upstreams, context))
    assert [call.request.headers[LEGAL_CONTEXT_HEADER] for call in route.calls] == [context, context]


def test_every_client_call_takes_a_legal_context() -> None:
    assert set(WITH_CONTEXT) == set(IDS)
