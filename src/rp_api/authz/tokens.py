"""Bearer token verification: UMAN eHealth, UMAN BCSS, INAMI's internal provider (and the dev issuer in dev).

The order of the checks matters: the token's shape, its issuer, the algorithm that issuer may use, the key, the
signature (python-jose, cryptography backend), and only then the registered claims (``exp``, ``nbf``, ``iat``,
``aud``, ``sub``), so that "expired" is never said of a forged token. The claims then become a
:class:`Principal` through the organisation registry.

Speed: keys are parsed once (:mod:`rp_api.authz.jwks`), the registered claims are checked by a small pure
function instead of ``jose.jwt.decode`` (which parses the token twice and costs about 3x a bare RS256 check), and
a token already verified is remembered by its SHA-256 until its ``exp``, in a bounded cache. A token seen for the
first time is parsed once, as bytes (one alphabet check, three strict base64url decodings; the header of a token
that verified is kept, so the next token of that issuer skips its decoding); an RS256 signature is checked on the
``cryptography`` public key that python-jose built, with padding and hash objects made once; and the principal of
a known user is copied, not built again.
"""

from __future__ import annotations

import binascii
import hashlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jose.backends.cryptography_backend import CryptographyRSAKey

from rp_api import metrics
from rp_api.authz.jwks import KeySet, VerifyingKey
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.principal import ORGANISATION_TYPES_BY_ISSUER, IssuerName, Principal
from rp_api.domain.actors import Role, roles_allowed
from rp_api.identifiers import LAST_YEAR, InvalidIdentifierError, normalise_enterprise_number, normalise_ssin
from rp_api.problems import ExpiredAccessToken, InvalidAccessToken, MissingPermission
from rp_api.settings import IssuerSettings

log = structlog.get_logger(__name__)

KBO_CLAIM = "urn:be:fgov:kbo-bce:organization:cbe-number"
EHEALTH_CBE_CLAIM = "urn:be:fgov:ehealth:1.0:certificateholder:enterprise:cbe-number"
_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_URL_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


@dataclass(frozen=True)
class TrustedIssuer:
    name: IssuerName
    config: IssuerSettings
    keys: KeySet

    @property
    def uri(self) -> str:
        assert self.config.issuer is not None
        return self.config.issuer


class _Rejected(Exception):  # noqa: N818 - internal signal, turned into a problem at the boundary
    def __init__(self, reason: str, problem: type[InvalidAccessToken | ExpiredAccessToken | MissingPermission]):
        super().__init__(reason)
        self.reason = reason
        self.problem = problem


def _invalid(reason: str) -> _Rejected:
    return _Rejected(reason, InvalidAccessToken)


def _forbidden(reason: str) -> _Rejected:
    return _Rejected(reason, MissingPermission)


_ALPHABET_INDEX = {c: i for i, c in enumerate(_BASE64URL)}
# Bits of the last character that carry no data, by segment length modulo 4 (1 is never valid base64).
_UNUSED_BITS_MASK = {0: 0, 2: 0b1111, 3: 0b11}
_PADDING = {0: b"", 2: b"==", 3: b"="}


def _compact(token: bytes) -> list[bytes]:
    """The three segments of a compact JWS, each non-empty and of the base64url alphabet only (what is left once
    every character of the alphabet is deleted is the two dots, nothing else)."""
    if token.translate(None, _BASE64URL) != b"..":
        raise _invalid("not_compact_jws")
    segments = token.split(b".")
    if not all(segments):
        raise _invalid("not_compact_jws")
    return segments


def _decode_segment(segment: bytes) -> bytes:
    """Strict base64url (the alphabet was checked on the whole token): only the canonical encoding is accepted.

    A non-canonical encoding (unused low bits of the last character set) decodes to the same bytes; accepting it
    would let anyone change a signature's text without invalidating it.
    """
    remainder = len(segment) % 4
    mask = _UNUSED_BITS_MASK.get(remainder)
    if mask is None:
        raise _invalid("segment_length")
    if _ALPHABET_INDEX[segment[-1]] & mask:
        raise _invalid("segment_not_canonical")
    try:
        return binascii.a2b_base64((segment + _PADDING[remainder]).translate(_URL_TO_STANDARD), strict_mode=True)
    except (binascii.Error, ValueError):
        raise _invalid("segment_encoding") from None


_PKCS1V15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def _rs256_check(key: VerifyingKey) -> Callable[[bytes, bytes], bool]:
    """How an RS256 signature is checked with ``key``: on the ``cryptography`` public key python-jose built, with
    the padding and hash objects made once (python-jose makes both at every call); any other key, as it is."""
    prepared = getattr(key, "prepared_key", None)
    if not (isinstance(key, CryptographyRSAKey) and isinstance(prepared, rsa.RSAPublicKey)):
        return key.verify

    def check(signing_input: bytes, signature: bytes) -> bool:
        try:
            prepared.verify(signature, signing_input, _PKCS1V15, _SHA256)
        except InvalidSignature:
            return False
        return True

    return check


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _invalid(f"{what}_not_json") from None
    if not isinstance(value, dict):
        raise _invalid(f"{what}_not_object")
    return value


LATEST_NUMERIC_DATE = int(datetime(LAST_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
"""The last NumericDate (``exp``, ``iat``, ``nbf``) a token may carry: the last second of the calendar the API's
date-times live in (``expires_at`` is shown by ``/me``)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _int_claim(claims: dict[str, Any], name: str, *, required: bool) -> int | None:
    """A NumericDate (RFC 7519: seconds since the epoch, maybe with a fraction), from 1970 to year 9998."""
    value = claims.get(name)
    if value.__class__ is int and 0 <= value <= LATEST_NUMERIC_DATE:  # the usual case, first (not a bool)
        return value
    if value is None:
        if required:
            raise _invalid(f"{name}_missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(f"{name}_not_numeric")
    if not 0 <= value <= LATEST_NUMERIC_DATE:  # also false for NaN
        raise _invalid(f"{name}_out_of_range")
    return int(value)


def check_claim_types(claims: dict[str, Any], roles_claim: str) -> None:
    """The other claims API RP reads, when present, have their JSON type: ``roles`` a list of texts or one
    space-separated text, ``jti`` a text, ``name`` a text without control characters (it is stored as an author's
    name). A signed token with a malformed claim is an invalid token (401), never an error of ours."""
    roles = claims.get(roles_claim)
    if roles is not None and not (
        isinstance(roles, str) or (isinstance(roles, list) and all(isinstance(role, str) for role in roles))
    ):
        raise _invalid("roles_malformed")
    token_id = claims.get("jti")
    if token_id is not None and not isinstance(token_id, str):
        raise _invalid("jti_malformed")
    name = claims.get("name")
    if name is not None and not (isinstance(name, str) and not _CONTROL.search(name)):
        raise _invalid("name_malformed")


def check_registered_claims(claims: dict[str, Any], *, audience: str, now: float, leeway: int) -> int:
    """``exp`` (required, not past), ``nbf`` (not future), ``iat`` (required, not future), ``aud``, ``sub``.

    Returns ``exp``. Pure: the clock is an argument.
    """
    exp = _int_claim(claims, "exp", required=True)
    assert exp is not None
    iat = _int_claim(claims, "iat", required=True)
    assert iat is not None
    nbf = _int_claim(claims, "nbf", required=False)
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if audience not in audiences:
        raise _invalid("aud")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise _invalid("sub_missing")
    if iat > now + leeway:
        raise _invalid("iat_future")
    if nbf is not None and nbf > now + leeway:
        raise _invalid("nbf_future")
    if exp <= now - leeway:
        raise _Rejected("expired", ExpiredAccessToken)
    return exp


def principal_from_claims(
    claims: dict[str, Any], issuer: TrustedIssuer, registry: OrganisationRegistry, *, exp: int
) -> Principal:
    """Who the verified token speaks for: organisation (from the registry), user, roles."""
    try:
        user_ssin = normalise_ssin(str(claims["sub"]))
    except InvalidIdentifierError:
        raise _invalid("sub_not_ssin") from None
    raw_number = claims.get(KBO_CLAIM)
    if raw_number is None and issuer.name in (IssuerName.UMAN_EHEALTH, IssuerName.DEV):
        raw_number = claims.get(EHEALTH_CBE_CLAIM)
    if not isinstance(raw_number, str | int) or isinstance(raw_number, bool):
        raise _invalid("enterprise_number_missing")
    try:
        enterprise_number = normalise_enterprise_number(str(raw_number))
    except InvalidIdentifierError:
        raise _invalid("enterprise_number_invalid") from None

    organisation = registry.by_enterprise_number(enterprise_number)
    if organisation is None:
        raise _forbidden("organisation_unknown")
    if organisation.type not in ORGANISATION_TYPES_BY_ISSUER[issuer.name]:
        raise _forbidden("organisation_type_not_of_issuer")
    roles = _roles(claims.get(issuer.config.roles_claim))
    if roles is None or not roles_allowed(organisation.type, roles):
        raise _forbidden("role_not_allowed")

    token_id = claims.get("jti")
    return Principal(
        organisation_type=organisation.type,
        enterprise_number=enterprise_number,
        organisation_name=organisation.name,
        oa_number=organisation.oa_number,
        user_ssin=user_ssin,
        roles=roles,
        issuer=issuer.name,
        token_id=token_id if isinstance(token_id, str) and token_id else "",
        expires_at=datetime.fromtimestamp(exp, UTC),
        user_name=name[:200] if isinstance(name := claims.get("name"), str) and name else None,
    )


def _roles(value: Any) -> frozenset[Role] | None:
    """Roles as a JSON list or a space-separated string; None when a name is not a role of API RP."""
    names = value.split() if isinstance(value, str) else value if isinstance(value, list) else None
    if names is None:
        return None
    try:
        return frozenset(Role(name) for name in names)
    except (ValueError, TypeError):
        return None


class _VerifiedCache:
    """Principals of verified tokens, by the token's SHA-256, until ``exp``; the oldest entry leaves first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: dict[bytes, tuple[int, Principal]] = {}

    def get(self, digest: bytes, now: float) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] <= now:
            del self._entries[digest]
            return None
        return entry[1]

    def put(self, digest: bytes, exp: int, principal: Principal) -> None:
        if self.size == 0:
            return
        if len(self._entries) >= self.size:
            del self._entries[next(iter(self._entries))]
        self._entries[digest] = (exp, principal)


_PRINCIPAL_FIELDS = [field.name for field in fields(Principal)]
_TOKEN_ID = _PRINCIPAL_FIELDS.index("token_id")
_EXPIRES_AT = _PRINCIPAL_FIELDS.index("expires_at")
_KNOWN_HEADERS = 64
"""Headers of verified tokens kept, decoded (an issuer signs all its tokens with the same few headers)."""
_KNOWN_KEYS = 64
"""Signature checks kept, one per key (a key set parses each key once; a new JWKS brings new key objects)."""


class TokenVerifier:
    def __init__(
        self,
        issuers: Iterable[TrustedIssuer],
        registry: OrganisationRegistry,
        *,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuers = {issuer.uri: issuer for issuer in issuers}
        self.registry = registry
        self.clock = clock
        self._cache = _VerifiedCache(cache_size)
        # Who a token speaks for depends only on its issuer, subject, organisation and roles claims: a new token
        # of a known user reuses the checked principal (SSIN and enterprise number checks, registry, roles).
        self._principals: dict[tuple[Any, ...], list[Any]] = {}
        self._principals_size = max(cache_size, 1)
        self._headers: dict[bytes, dict[str, Any]] = {}
        self._checks: dict[VerifyingKey, Callable[[bytes, bytes], bool]] = {}

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token; otherwise raises the matching Belgif problem (401 or 403)."""
        now = self.clock()
        raw = token.encode("utf-8", "surrogateescape")
        digest = hashlib.sha256(raw).digest()
        cached = self._cache.get(digest, now)
        metrics.count_token_cache(hit=cached is not None)
        if cached is not None:
            return cached
        try:
            exp, principal = await self._verify(raw, now)
        except _Rejected as rejected:
            log.info("token_rejected", reason=rejected.reason)
            raise rejected.problem() from None
        self._cache.put(digest, exp, principal)
        return principal

    async def _verify(self, token: str | bytes, now: float) -> tuple[int, Principal]:
        """``token``: the token, or its bytes as :meth:`verify` encoded them (anything but ASCII fails the alphabet
        check)."""
        if isinstance(token, str):
            token = token.encode("utf-8", "surrogateescape")
        header_segment, payload_segment, signature_segment = _compact(token)
        known_header = self._headers.get(header_segment)
        header = known_header or _json_object(_decode_segment(header_segment), "header")
        claims = _json_object(_decode_segment(payload_segment), "payload")
        signature = _decode_segment(signature_segment)

        if "crit" in header:
            raise _invalid("critical_header")
        algorithm = header.get("alg")
        iss = claims.get("iss")
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise _invalid("issuer_unknown")
        if algorithm not in issuer.config.algorithms:
            raise _invalid("algorithm_not_allowed")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise _invalid("kid_not_string")
        key = await issuer.keys.key_for(kid, str(algorithm))
        if key is None:
            raise _invalid("key_unknown")
        check = self._checks.get(key)
        if check is None:
            if len(self._checks) >= _KNOWN_KEYS:  # keys of an earlier JWKS
                self._checks.clear()
            check = self._checks[key] = _rs256_check(key) if algorithm == "RS256" else key.verify
        signing_input = token[: len(header_segment) + 1 + len(payload_segment)]
        try:
            valid = check(signing_input, signature)
        except Exception:
            valid = False
        if not valid:
            raise _invalid("signature")

        exp = check_registered_claims(claims, audience=issuer.config.audience, now=now, leeway=issuer.config.leeway_s)
        check_claim_types(claims, issuer.config.roles_claim)
        principal = self._principal(claims, issuer, exp)
        if known_header is None:  # kept only once a token with this header verified
            if len(self._headers) >= _KNOWN_HEADERS:
                self._headers.clear()
            self._headers[header_segment] = header
        return exp, principal

    def _principal(self, claims: dict[str, Any], issuer: TrustedIssuer, exp: int) -> Principal:
        roles = claims.get(issuer.config.roles_claim)
        key = (
            issuer.config.issuer,  # the issuer's URI, one per trusted issuer (a plain text hashes faster than its enum)
            claims.get("sub"),
            repr(claims.get(KBO_CLAIM)),
            repr(claims.get(EHEALTH_CBE_CLAIM)),
            tuple(roles) if isinstance(roles, list) else repr(roles),
            repr(claims.get("name")),
        )
        values = self._principals.get(key)
        if values is None:
            known = principal_from_claims(claims, issuer, self.registry, exp=exp)
            values = [getattr(known, name) for name in _PRINCIPAL_FIELDS]
            if len(self._principals) >= self._principals_size:
                del self._principals[next(iter(self._principals))]
            self._principals[key] = values
        # A copy with this token's id and expiry (positional: ``dataclasses.replace`` costs ~3 µs more).
        token_id = claims.get("jti")
        fresh = values.copy()
        fresh[_TOKEN_ID] = token_id if isinstance(token_id, str) and token_id else ""
        fresh[_EXPIRES_AT] = datetime.fromtimestamp(exp, UTC)
        return Principal(*fresh)
