"""The JWT attack catalogue: every forged, tampered, misdirected or insufficient token, with the problem type API
RP must answer. Replayed against the verifier (tests/unit/test_tokens.py) and over HTTP against every kind of
endpoint (tests/integration/test_jwt_attacks.py)."""

from __future__ import annotations

import time

from rp_api.authz.principal import IssuerName
from rp_api.authz.tokens import EHEALTH_CBE_CLAIM, KBO_CLAIM
from rp_api.identifiers import make_enterprise_number
from tests.token_factory import TokenFactory, b64

INVALID = "urn:problem-type:belgif:invalidAccessToken"
EXPIRED = "urn:problem-type:belgif:expiredAccessToken"
FORBIDDEN = "urn:problem-type:belgif:missingPermission"


def attacks(f: TokenFactory) -> list[tuple[str, str, str]]:
    """(name, token, expected problem type): every forged, tampered, misdirected or insufficient token."""
    now = int(time.time())
    vdab = f.organisation("VDAB").enterprise_number
    good = f.token()
    attacker = TokenFactory()
    attacker_jwk = attacker.jwks()["keys"][0]
    header, payload, signature = good.split(".")
    return [
        ("garbage", "not-a-token", INVALID),
        ("two segments", f"{header}.{payload}", INVALID),
        ("header not json", f"{b64(b'{nope')}.{payload}.{signature}", INVALID),
        ("payload a list", f"{header}.{b64(b'[1]')}.{signature}", INVALID),
        ("alg none", f.unsigned({"alg": "none", "typ": "JWT"}, f.claims()), INVALID),
        ("alg none with kid", f.unsigned({"alg": "none", "kid": "rsa-1"}, f.claims()), INVALID),
        ("HS256 keyed with the public key", _hmac_with_public_key(f), INVALID),
        ("unknown kid", f.token(kid="rotated-away"), INVALID),
        ("bad signature", f"{header}.{payload}.{b64(b'x' * 256)}", INVALID),
        ("signature of another token", f"{header}.{f.token('CM').split('.')[1]}.{signature}", INVALID),
        ("wrong issuer", f.token(iss="https://evil.test/auth"), INVALID),
        ("wrong audience", f.token(aud="another-api"), INVALID),
        ("audience list without ours", f.token(aud=["a", "b"]), INVALID),
        ("no exp", f.token(exp=None), INVALID),
        ("no iat", f.token(iat=None), INVALID),
        ("exp not a number", f.token(exp="tomorrow"), INVALID),
        ("iat in the future", f.token(iat=now + 3600), INVALID),
        ("nbf in the future", f.token(nbf=now + 3600), INVALID),
        ("no sub", f.token(sub=None), INVALID),
        ("sub not an SSIN", f.token(sub="85073003329"), INVALID),
        ("no enterprise number", f.token(**{KBO_CLAIM: None}), INVALID),
        (
            "enterprise number with bad check",
            f.token(**{KBO_CLAIM: vdab[:-1] + str((int(vdab[-1]) + 1) % 10)}),
            INVALID,
        ),
        ("eHealth claim on a BCSS token", f.token(**{KBO_CLAIM: None, EHEALTH_CBE_CLAIM: vdab}), INVALID),
        ("critical header", f.token(headers={"crit": ["exp"]}), INVALID),
        ("expired", f.token(exp=now - 120, iat=now - 900, nbf=now - 900), EXPIRED),
        ("unknown organisation", f.token(**{KBO_CLAIM: make_enterprise_number(2_000_001)}), FORBIDDEN),
        ("BCSS token for an insurer", f.token("CM", ["administrative"], issuer=IssuerName.UMAN_BCSS), FORBIDDEN),
        ("eHealth token for INAMI", f.token("INAMI", ["auditor"], issuer=IssuerName.UMAN_EHEALTH), FORBIDDEN),
        ("VDAB as medicalAdvisor", f.token("VDAB", ["medicalAdvisor"]), FORBIDDEN),
        ("role unknown to API RP", f.token("VDAB", ["admin"]), FORBIDDEN),
        ("no role", f.token("VDAB", []), FORBIDDEN),
        ("roles not a list", f.token("VDAB", {"a": 1}), INVALID),  # type: ignore[arg-type]
        # Keys the attacker chooses: none of them is ever fetched or trusted.
        ("attacker's key under our kid", attacker.token(kid="rsa-1"), INVALID),
        ("attacker's key embedded (jwk)", attacker.token(kid="evil", headers={"jwk": attacker_jwk}), INVALID),
        ("attacker's key set (jku)", attacker.token(kid="evil", headers={"jku": "https://evil.test/jwks"}), INVALID),
        (
            "attacker's certificate (x5u)",
            attacker.token(kid="evil", headers={"x5u": "https://evil.test/c.pem"}),
            INVALID,
        ),
        ("kid path traversal", f.token(kid="../../../../../dev/null"), INVALID),
        ("kid injection", f.token(kid="rsa-1' OR '1'='1"), INVALID),
        ("10 kB of garbage", "e" * 10_000, INVALID),
    ]


def _hmac_with_public_key(f: TokenFactory) -> str:
    """The classic confusion attack: HS256 with the issuer's public key (which anyone has) as the secret."""
    import hashlib
    import hmac

    unsigned = f.unsigned({"alg": "HS256", "kid": "rsa-1"}, f.claims())
    signing_input = unsigned.rsplit(".", 1)[0]
    mac = hmac.new(f.public_pem().encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"
