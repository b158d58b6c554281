"""Token verification: every rejection with its status and problem type, the accepted variants, the cache."""

from __future__ import annotations

import functools
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rp_api.authz.principal import IssuerName
from rp_api.authz.tokens import EHEALTH_CBE_CLAIM, KBO_CLAIM, check_registered_claims
from rp_api.domain.actors import OrganisationType, Role
from rp_api.problems import ExpiredAccessToken, InvalidAccessToken, MissingPermission, Problem
from tests.edge_strategies import MALFORMED_CLAIMS
from tests.jwt_attacks import FORBIDDEN, attacks
from tests.token_factory import USER_SSIN, TokenFactory

FACTORY = TokenFactory()


@pytest.fixture(scope="module")
def factory() -> TokenFactory:
    return FACTORY


async def rejection(factory: TokenFactory, token: str) -> Problem:
    with pytest.raises(Problem) as caught:
        await factory.verifier().verify(token)
    return caught.value


async def test_valid_token_of_each_issuer(factory: TokenFactory) -> None:
    verifier = factory.verifier()
    cases = [
        ("CM", ["medicalAdvisor"], OrganisationType.INSURER, IssuerName.UMAN_EHEALTH),
        ("Idewe", ["nurse"], OrganisationType.PREVENTION_SERVICE, IssuerName.UMAN_EHEALTH),
        ("VDAB", ["referenceAdvisor", "listManager"], OrganisationType.REGIONAL_SERVICE, IssuerName.UMAN_BCSS),
        ("INAMI", ["auditor"], OrganisationType.INAMI, IssuerName.INAMI_INTERNAL),
    ]
    for org, roles, organisation_type, issuer in cases:
        principal = await verifier.verify(factory.token(org, roles))
        organisation = factory.organisation(org)
        assert principal.organisation_type is organisation_type
        assert principal.enterprise_number == organisation.enterprise_number
        assert principal.organisation_name == organisation.name
        assert principal.oa_number == organisation.oa_number
        assert principal.user_ssin == USER_SSIN
        assert principal.roles == frozenset(Role(role) for role in roles)
        assert principal.issuer is issuer
        assert principal.token_id


async def test_insurer_principal_carries_its_oa_number(factory: TokenFactory) -> None:
    principal = await factory.verifier().verify(factory.token("Solidaris", ["administrative"]))
    assert principal.oa_number == 300


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
async def test_each_allowed_algorithm(factory: TokenFactory, alg: str) -> None:
    principal = await factory.verifier().verify(factory.token("VDAB", alg=alg))
    assert principal.organisation_name == "VDAB"


async def test_ehealth_certificate_claim_is_accepted_and_left_padded(factory: TokenFactory) -> None:
    number = factory.organisation("Liantis").enterprise_number
    token = factory.token("Liantis", **{KBO_CLAIM: None, EHEALTH_CBE_CLAIM: number.lstrip("0")})
    principal = await factory.verifier().verify(token)
    assert principal.enterprise_number == number


async def test_roles_as_space_separated_string(factory: TokenFactory) -> None:
    principal = await factory.verifier().verify(factory.token("CM", roles="medicalAdvisor administrative"))  # type: ignore[arg-type]
    assert principal.roles == {Role.MEDICAL_ADVISOR, Role.ADMINISTRATIVE}


@functools.cache
def _rejections() -> dict[str, tuple[str, str]]:
    """The attacks' tokens, minted when the first case runs (not at collection: in a long suite, tokens minted at
    collection would have expired by then, and an expired token is refused for the wrong reason)."""
    return {name: (token, expected) for name, token, expected in attacks(FACTORY)}


@pytest.mark.parametrize("case", [name for name, _, _ in attacks(FACTORY)])
async def test_rejection(factory: TokenFactory, case: str) -> None:
    token, expected = _rejections()[case]
    problem = await rejection(factory, token)
    assert problem.type == expected
    assert problem.status == (403 if expected == FORBIDDEN else 401)
    # The answer never says which check failed.
    assert problem.detail == type(problem).default_detail


async def test_problems_carry_bearer_challenge() -> None:
    for problem in (InvalidAccessToken(), ExpiredAccessToken()):
        assert problem.headers["WWW-Authenticate"].startswith("Bearer")
    assert "WWW-Authenticate" not in MissingPermission().headers


async def test_algorithm_not_allowed_for_issuer(factory: TokenFactory) -> None:
    verifier = factory.verifier()
    restricted = factory.issuer_settings(IssuerName.UMAN_BCSS).model_copy(update={"algorithms": ("RS256",)})
    issuer = verifier.issuers[restricted.issuer]  # type: ignore[index]
    verifier.issuers[issuer.uri] = type(issuer)(issuer.name, restricted, issuer.keys)
    with pytest.raises(InvalidAccessToken):
        await verifier.verify(factory.token("VDAB", alg="ES256"))


async def test_verified_token_is_not_verified_again(factory: TokenFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = factory.verifier()
    token = factory.token()
    first = await verifier.verify(token)
    calls: list[Any] = []
    monkeypatch.setattr(verifier, "_verify", lambda *args: calls.append(args))
    assert await verifier.verify(token) is first
    assert calls == []


async def test_cached_token_expires(factory: TokenFactory) -> None:
    now = [time.time()]
    verifier = factory.verifier(clock=lambda: now[0])
    token = factory.token(exp=int(now[0]) + 60)
    await verifier.verify(token)
    now[0] += 60 + 31  # past exp and the 30 s leeway
    with pytest.raises(ExpiredAccessToken):
        await verifier.verify(token)


async def test_cache_is_bounded(factory: TokenFactory) -> None:
    verifier = factory.verifier(cache_size=3)
    for _ in range(10):
        await verifier.verify(factory.token())
    assert len(verifier._cache._entries) == 3


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": 200, "iat": 100, "aud": "rp", "sub": "x"}, None),
        ({"exp": 200, "iat": 100, "aud": ["x", "rp"], "sub": "x"}, None),
        ({"exp": 129, "iat": 100, "aud": "rp", "sub": "x"}, None),  # within the 30 s leeway
        ({"exp": 120, "iat": 100, "aud": "rp", "sub": "x"}, "expired"),
        ({"exp": 200, "iat": 181, "aud": "rp", "sub": "x"}, "iat_future"),
        ({"exp": 200, "iat": 100, "nbf": 181, "aud": "rp", "sub": "x"}, "nbf_future"),
        ({"exp": True, "iat": 100, "aud": "rp", "sub": "x"}, "exp_not_numeric"),
        ({"exp": 200, "iat": 100, "aud": "rp", "sub": ""}, "sub_missing"),
    ],
)
def test_registered_claims_table(claims: dict[str, Any], reason: str | None) -> None:
    from rp_api.authz.tokens import _Rejected

    if reason is None:
        assert check_registered_claims(claims, audience="rp", now=150, leeway=30) == claims["exp"]
    else:
        with pytest.raises(_Rejected) as caught:
            check_registered_claims(claims, audience="rp", now=150, leeway=30)
        assert caught.value.reason == reason


VALID_TOKEN = FACTORY
VALID = VALID_TOKEN.token("CM", ["medicalAdvisor"], exp=int(time.time()) + 86_400)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_any_single_byte_change_is_refused(data: st.DataObject) -> None:
    raw = VALID.encode()
    position = data.draw(st.integers(0, len(raw) - 1), label="position")
    replacement = data.draw(st.integers(0, 255).filter(lambda byte: byte != raw[position]), label="byte")
    tampered = (raw[:position] + bytes([replacement]) + raw[position + 1 :]).decode("latin-1")
    with pytest.raises(Problem) as caught:
        await VALID_TOKEN.verifier().verify(tampered)
    assert caught.value.status == 401


async def test_the_untampered_token_is_accepted() -> None:
    assert (await VALID_TOKEN.verifier().verify(VALID)).organisation_type is OrganisationType.INSURER


# -- malformed claims of a validly signed token (issue 15, item 5): 401 invalidAccessToken, never a 500 ----------


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"roles": [["x"]]}, "roles_malformed"),  # unhashable: was a TypeError in the principal cache
        ({"roles": [1, "medicalAdvisor"]}, "roles_malformed"),
        ({"roles": {"a": 1}}, "roles_malformed"),
        ({"roles": 7}, "roles_malformed"),
        ({"exp": 1e20}, "exp_out_of_range"),  # was an OverflowError in datetime.fromtimestamp
        ({"exp": 2**64}, "exp_out_of_range"),
        ({"exp": -(2**40)}, "exp_out_of_range"),
        ({"exp": True}, "exp_not_numeric"),
        ({"exp": "tomorrow"}, "exp_not_numeric"),
        ({"iat": "x"}, "iat_not_numeric"),
        ({"iat": 1e300}, "iat_out_of_range"),
        ({"iat": [1]}, "iat_not_numeric"),
        ({"nbf": -1}, "nbf_out_of_range"),
        ({"nbf": {"t": 1}}, "nbf_not_numeric"),
        ({"sub": 123}, "sub_missing"),
        ({"sub": ["85073003328"]}, "sub_missing"),
        ({"aud": [["rp-api"]]}, "aud"),
        ({"jti": 5}, "jti_malformed"),
        ({"jti": {"id": "x"}}, "jti_malformed"),
        ({"name": 5}, "name_malformed"),
        ({"name": "Jan\x00Peeters"}, "name_malformed"),  # stored as a message's author: PostgreSQL refuses NUL
        ({"name": "Jan\x1bPeeters"}, "name_malformed"),
    ],
    ids=repr,
)
async def test_malformed_claims_are_an_invalid_token(
    factory: TokenFactory, claims: dict[str, Any], reason: str
) -> None:
    from rp_api.authz.tokens import _Rejected

    roles = claims.pop("roles", None)
    token = factory.token("CM", roles if roles is not None else ["medicalAdvisor"], alg="ES256", **claims)
    verifier = factory.verifier()
    with pytest.raises(_Rejected) as caught:
        await verifier._verify(token, time.time())
    assert caught.value.reason == reason
    assert caught.value.problem is InvalidAccessToken
    problem = await rejection(factory, token)
    assert (problem.status, problem.type) == (401, "urn:problem-type:belgif:invalidAccessToken")


async def test_a_fractional_numeric_date_is_accepted(factory: TokenFactory) -> None:
    """RFC 7519's NumericDate may have a fraction; the last second of year 9998 is still a date ``/me`` can show."""
    exp = time.time() + 600.5
    principal = await factory.verifier().verify(factory.token("CM", alg="ES256", exp=exp))
    assert principal.expires_at.timestamp() == int(exp)
    from rp_api.authz.tokens import LATEST_NUMERIC_DATE

    far = await factory.verifier().verify(factory.token("CM", alg="ES256", exp=LATEST_NUMERIC_DATE))
    assert far.expires_at.year == 9998


@pytest.mark.parametrize("claim", sorted(MALFORMED_CLAIMS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_any_claim_of_the_wrong_type_is_an_invalid_token(claim: str, data: st.DataObject) -> None:
    value = data.draw(MALFORMED_CLAIMS[claim], label=claim)
    if claim == "roles":
        token = FACTORY.token("CM", value, alg="ES256")
    else:
        token = FACTORY.token("CM", ["medicalAdvisor"], alg="ES256", **{claim: value})
    problem = await rejection(FACTORY, token)
    assert (problem.status, problem.type) == (401, "urn:problem-type:belgif:invalidAccessToken")
