"""``Idempotency-Key`` on POSTs: a retry with the same key never makes a duplicate, and never skips the guard.

A key belongs to one user of one organisation (the token's issuer and subject, kept as a digest, and the enterprise
number). It is claimed in the request's transaction; the first answer's status and the id of what it created are
stored in the same transaction, so a request that failed leaves no record and its retry runs again. The answer's
body is never stored: a replay reads the resource again — through the person guard with the caller's current links,
the visibility of the caller's roles, and the audit, like any read — and answers it with the first status and
``Idempotent-Replayed: true``. The same key with another request (method, path or body) is refused (422).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.domain.principal import Principal
from rp_api.i18n import language
from rp_api.problems import INVALID_INPUT, BadRequest, IdempotencyKeyReused, InputIssue
from rp_api.repositories import idempotency as records

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def _fingerprint(request: Request, body: Any) -> bytes:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).digest()


def user_key(principal: Principal) -> str:
    """Who owns a key: a digest of the token's issuer and subject (the user's SSIN is not stored as such)."""
    return hashlib.sha256(f"{principal.issuer}\n{principal.user_ssin}".encode()).hexdigest()


@dataclass(frozen=True)
class Earlier:
    """The first call made with this key: its status and the resource it created (if any)."""

    status_code: int
    resource_id: uuid.UUID | None

    def answer(self, response: Response) -> Response:
        """The fresh read of the resource, answered as the first call was."""
        response.status_code = self.status_code
        response.headers[REPLAYED] = "true"
        return response


class Idempotency:
    def __init__(self, request: Request, session: AsyncSession, principal: Principal) -> None:
        self.request = request
        self.session = session
        self.principal = principal
        self.key = request.headers.get(HEADER)
        # The key is stored: no control character (PostgreSQL's text cannot hold NUL).
        if self.key is not None and (
            not 1 <= len(self.key) <= 200 or any(c < " " or "\x7f" <= c <= "\x9f" for c in self.key)
        ):
            detail = "1 to 200 characters, no control character"
            raise BadRequest([InputIssue(INVALID_INPUT, "Invalid Idempotency-Key", detail, "header", HEADER)])

    def _scope(self) -> dict[str, str]:
        assert self.key is not None
        return {"organisation": self.principal.enterprise_number, "user_key": user_key(self.principal), "key": self.key}

    async def earlier(self, body: Any) -> Earlier | None:
        """The first call made with this key and this same request; None to go on (the key is now claimed)."""
        if self.key is None:
            return None
        found = await records.claim(self.session, fingerprint=_fingerprint(self.request, body), **self._scope())
        if found is None:
            return None
        if bytes(found.fingerprint) != _fingerprint(self.request, body) or found.status_code is None:
            raise IdempotencyKeyReused(lang=language(self.request.headers.get("accept-language")))
        return Earlier(found.status_code, found.resource_id)

    async def remember(self, response: Response, resource_id: uuid.UUID | None = None) -> Response:
        if self.key is not None:
            await records.remember(
                self.session, status_code=response.status_code, resource_id=resource_id, **self._scope()
            )
        return response
