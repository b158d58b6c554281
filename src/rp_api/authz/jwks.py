"""The signing keys of one identity provider (a JWKS), parsed once and refetched only when needed.

A token whose ``kid`` is unknown makes the key set fetch the JWKS again, but at most once per refresh interval,
whatever the number of such tokens, and concurrent callers share that one fetch: a flood of tokens with invented
``kid`` values cannot hammer the provider. A failed fetch keeps the keys already known.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jose import jwk

log = structlog.get_logger(__name__)

_KEY_TYPE_OF_ALGORITHM = {"RS256": ("RSA", None), "PS256": ("RSA", None), "ES256": ("EC", "P-256")}


class VerifyingKey(Protocol):
    def verify(self, msg: bytes, sig: bytes) -> bool: ...


class _RsaPssKey:
    """PS256 (RSASSA-PSS, SHA-256, MGF1 SHA-256, 32-byte salt; RFC 7518 §3.5). python-jose has no PS256, so the
    key parsed by jose is checked with ``cryptography`` directly."""

    _PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)

    def __init__(self, public_key: rsa.RSAPublicKey) -> None:
        self.public_key = public_key

    def verify(self, msg: bytes, sig: bytes) -> bool:
        try:
            self.public_key.verify(sig, msg, self._PADDING, hashes.SHA256())
        except InvalidSignature:
            return False
        return True


class KeySourceError(Exception):
    """The JWKS could not be fetched or is not a JWKS."""


class KeySource(Protocol):
    async def fetch(self) -> list[dict[str, Any]]: ...


def _keys_of(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise KeySourceError("not a JWKS")
    return [key for key in document["keys"] if isinstance(key, dict)]


class JwksUrl:
    """Keys published by the provider at an HTTPS URL, fetched with the shared HTTP client."""

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self.http = http

    async def fetch(self) -> list[dict[str, Any]]:
        try:
            response = await self.http.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            return _keys_of(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise KeySourceError(type(exc).__name__) from None


class JwksFile:
    """Keys in a local file (read again on refresh, so a rotated file is picked up)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def fetch(self) -> list[dict[str, Any]]:
        try:
            return _keys_of(json.loads(await asyncio.to_thread(self.path.read_text, encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise KeySourceError(type(exc).__name__) from None


class StaticJwks:
    """Keys held in memory (the development issuer)."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys

    async def fetch(self) -> list[dict[str, Any]]:
        return list(self.keys)


class KeySet:
    def __init__(
        self,
        source: KeySource,
        *,
        refresh_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.refresh_interval_s = refresh_interval_s
        self.clock = clock
        self.fetches = 0
        self._jwks: list[dict[str, Any]] = []
        self._parsed: dict[tuple[str | None, str], VerifyingKey | None] = {}
        self._last_fetch: float | None = None
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None, algorithm: str) -> VerifyingKey | None:
        """The parsed key for this ``kid`` and algorithm, fetching the JWKS again if it is unknown."""
        key = self._lookup(kid, algorithm)
        if key is None:
            await self._refresh()
            key = self._lookup(kid, algorithm)
        return key

    def _lookup(self, kid: str | None, algorithm: str) -> VerifyingKey | None:
        cache_key = (kid, algorithm)
        if cache_key in self._parsed:
            return self._parsed[cache_key]
        candidates = [entry for entry in self._jwks if _fits(entry, algorithm)]
        if kid is not None:
            candidates = [entry for entry in candidates if entry.get("kid") == kid]
        key = _construct(candidates[0], algorithm) if len(candidates) == 1 else None
        if key is not None:
            self._parsed[cache_key] = key
        return key

    async def _refresh(self) -> None:
        async with self._lock:
            now = self.clock()
            if self._last_fetch is not None and now - self._last_fetch < self.refresh_interval_s:
                return
            self._last_fetch = now
            self.fetches += 1
            try:
                keys = await self.source.fetch()
            except KeySourceError as exc:
                log.warning("jwks_fetch_failed", reason=str(exc))
                return
            self._jwks = keys
            self._parsed = {}


def _fits(entry: dict[str, Any], algorithm: str) -> bool:
    kty, curve = _KEY_TYPE_OF_ALGORITHM[algorithm]
    if entry.get("kty") != kty or entry.get("use", "sig") != "sig":
        return False
    if "alg" in entry and entry["alg"] != algorithm:
        return False
    return curve is None or entry.get("crv") == curve


def _construct(entry: dict[str, Any], algorithm: str) -> VerifyingKey | None:
    public = {name: value for name, value in entry.items() if name not in ("d", "p", "q", "dp", "dq", "qi", "alg")}
    try:
        if algorithm == "PS256":
            parsed = jwk.construct(public, "RS256").prepared_key
            return _RsaPssKey(parsed) if isinstance(parsed, rsa.RSAPublicKey) else None
        key: VerifyingKey = jwk.construct(public, algorithm)
    except Exception:
        log.warning("jwks_key_unusable", kid=entry.get("kid"))
        return None
    return key
