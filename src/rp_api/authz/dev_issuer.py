"""The development token issuer: ``rp-api token`` and the tokens ``rp-api demo`` prints.

Its RSA key is generated at first use and kept in the data directory (mode 0600); it is never committed. API RP
trusts it only when ``RP_DEV_TOKEN_ISSUER`` is on, which the settings allow only when ``RP_ENV`` is dev or demo.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from rp_api.authz.organisations import Organisation
from rp_api.authz.tokens import KBO_CLAIM
from rp_api.domain.actors import Role
from rp_api.settings import IssuerSettings

DEV_ISSUER = "urn:rp-api:dev-issuer"
DEV_AUDIENCE = "rp-api"
# Its keys are held in memory (no JWKS URL or file), hence construct() rather than the checked constructor.
DEV_ISSUER_SETTINGS = IssuerSettings.model_construct(
    issuer=DEV_ISSUER,
    audience=DEV_AUDIENCE,
    jwks_url=None,
    jwks_file=None,
    algorithms=("RS256",),
    leeway_s=30,
    roles_claim="roles",
)


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class DevIssuer:
    key_path: Path

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> DevIssuer:
        return cls(data_dir / "dev-issuer" / "signing-key.pem")

    def _private_key(self) -> rsa.RSAPrivateKey:
        if not self.key_path.exists():
            self._create_key()
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    def _create_key(self) -> None:
        self.key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            descriptor = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return  # another process created it first: use that one
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)

    def public_jwk(self) -> dict[str, Any]:
        numbers = self._private_key().public_key().public_numbers()
        members = {"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}
        thumbprint = hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest()  # RFC 7638
        kid = base64.urlsafe_b64encode(thumbprint).rstrip(b"=").decode("ascii")[:16]
        return {**members, "kid": kid, "alg": "RS256", "use": "sig"}

    def mint(
        self,
        organisation: Organisation,
        roles: list[Role],
        *,
        user_ssin: str,
        lifetime_s: int = 3600,
        now: float | None = None,
    ) -> str:
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": DEV_ISSUER,
            "aud": DEV_AUDIENCE,
            "sub": user_ssin,
            "iat": issued,
            "nbf": issued,
            "exp": issued + lifetime_s,
            "jti": str(uuid.uuid4()),
            KBO_CLAIM: organisation.enterprise_number,
            "roles": [str(role) for role in roles],
            "name": f"Demo {roles[0]} of {organisation.aliases[0] if organisation.aliases else organisation.name}",
        }
        pem = self._private_key().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        token: str = jwt.encode(
            claims, pem.decode("ascii"), algorithm="RS256", headers={"kid": self.public_jwk()["kid"]}
        )
        return token
