"""Test identity providers: real RSA and EC keys, a JWKS file, and tokens with any claims or header."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from jose import jwk, jwt

from rp_api.authz.jwks import KeySet, StaticJwks
from rp_api.authz.organisations import Organisation, OrganisationRegistry
from rp_api.authz.principal import IssuerName
from rp_api.authz.tokens import KBO_CLAIM, TokenVerifier, TrustedIssuer
from rp_api.settings import IssuerSettings

ISSUER_URIS = {
    IssuerName.UMAN_EHEALTH: "https://uman-ehealth.test/auth",
    IssuerName.UMAN_BCSS: "https://uman-bcss.test/auth",
    IssuerName.INAMI_INTERNAL: "https://idp.inami.test/auth",
}
AUDIENCE = "rp-api"
USER_SSIN = "85073003328"  # an invented, valid number used throughout the tests


def _pem(private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _public_jwk(private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, alg: str, kid: str) -> dict[str, Any]:
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    entry: dict[str, Any] = jwk.construct(public_pem.decode(), alg).to_dict()
    entry.update(kid=kid, use="sig")
    entry.pop("alg")  # the RSA key serves RS256 and PS256 alike
    return entry


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenFactory:
    rsa_key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    ec_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    registry: OrganisationRegistry = field(default_factory=OrganisationRegistry.load)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [_public_jwk(self.rsa_key, "RS256", "rsa-1"), _public_jwk(self.ec_key, "ES256", "ec-1")]}

    def write_jwks(self, path: Path) -> Path:
        path.write_text(json.dumps(self.jwks()), encoding="utf-8")
        return path

    def public_pem(self) -> str:
        return (
            self.rsa_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def organisation(self, label: str) -> Organisation:
        found = self.registry.find(label)
        assert found is not None, label
        return found

    def claims(
        self, org: str = "VDAB", roles: list[str] | None = None, issuer: IssuerName | None = None, **overrides: Any
    ) -> dict[str, Any]:
        organisation = self.organisation(org)
        if issuer is None:
            issuer = {
                "insurer": IssuerName.UMAN_EHEALTH,
                "preventionService": IssuerName.UMAN_EHEALTH,
                "regionalService": IssuerName.UMAN_BCSS,
                "inami": IssuerName.INAMI_INTERNAL,
            }[organisation.type]
        default_role = {
            "insurer": "medicalAdvisor",
            "preventionService": "occupationalPhysician",
            "regionalService": "referenceAdvisor",
            "inami": "socialExpert",
        }[organisation.type]
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER_URIS[issuer],
            "aud": AUDIENCE,
            "sub": USER_SSIN,
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "jti": str(uuid.uuid4()),
            KBO_CLAIM: organisation.enterprise_number,
            "roles": roles if roles is not None else [default_role],
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(
        self,
        org: str = "VDAB",
        roles: list[str] | None = None,
        *,
        alg: str = "RS256",
        kid: str | None = None,
        issuer: IssuerName | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        key = self.ec_key if alg.startswith("ES") else self.rsa_key
        all_headers = {"kid": kid or ("ec-1" if alg.startswith("ES") else "rsa-1"), **(headers or {})}
        payload = self.claims(org, roles, issuer, **claims)
        if alg == "PS256":  # python-jose cannot sign PS256
            unsigned = self.unsigned({"alg": alg, "typ": "JWT", **all_headers}, payload).rsplit(".", 1)[0]
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            return f"{unsigned}.{b64(self.rsa_key.sign(unsigned.encode(), pss, hashes.SHA256()))}"
        encoded: str = jwt.encode(payload, _pem(key), algorithm=alg, headers=all_headers)
        return encoded

    def unsigned(self, header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
        return ".".join((b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)))

    def issuer_settings(self, issuer: IssuerName, jwks_file: Path | None = None) -> IssuerSettings:
        return IssuerSettings(
            issuer=ISSUER_URIS[issuer],
            audience=AUDIENCE,
            jwks_file=jwks_file,
            jwks_url=None if jwks_file else "https://keys.test/jwks",
            leeway_s=30,
        )

    def verifier(self, *, clock: Any = time.time, cache_size: int = 100) -> TokenVerifier:
        issuers = [
            TrustedIssuer(
                name, self.issuer_settings(name), KeySet(StaticJwks(self.jwks()["keys"]), refresh_interval_s=60)
            )
            for name in ISSUER_URIS
        ]
        return TokenVerifier(issuers, self.registry, cache_size=cache_size, clock=clock)
