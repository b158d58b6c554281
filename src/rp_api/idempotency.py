"""``Idempotency-Key`` on POSTs: a retry with the same key gets the first answer again, never a duplicate.

The key is claimed in the request's transaction; the answer is stored in the same transaction, so a request that
failed leaves no record and its retry runs again. The same key with another request is refused (422).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.principal import Principal
from rp_api.i18n import language
from rp_api.problems import INVALID_INPUT, BadRequest, IdempotencyKeyReused, InputIssue
from rp_api.repositories import idempotency as records

HEADER = "Idempotency-Key"
_REPLAYED_HEADERS = ("location", "etag")


def _fingerprint(request: Request, body: Any) -> bytes:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).digest()


class Idempotency:
    def __init__(self, request: Request, session: AsyncSession, principal: Principal) -> None:
        self.request = request
        self.session = session
        self.principal = principal
        self.key = request.headers.get(HEADER)
        if self.key is not None and not 1 <= len(self.key) <= 200:
            raise BadRequest(
                [InputIssue(INVALID_INPUT, "Invalid Idempotency-Key", "1 to 200 characters", "header", HEADER)]
            )

    async def replay(self, body: Any) -> JSONResponse | None:
        """The stored answer when this key was used before with this same request; None to go on."""
        if self.key is None:
            return None
        found = await records.claim(
            self.session,
            organisation=self.principal.enterprise_number,
            key=self.key,
            fingerprint=_fingerprint(self.request, body),
        )
        if found is None:
            return None
        if bytes(found.fingerprint) != _fingerprint(self.request, body) or found.status_code is None:
            raise IdempotencyKeyReused(lang=language(self.request.headers.get("accept-language")))
        return JSONResponse(
            found.body, status_code=found.status_code, headers={**(found.headers or {}), "Idempotent-Replayed": "true"}
        )

    async def remember(self, response: Response) -> Response:
        if self.key is not None:
            headers = {name: response.headers[name] for name in _REPLAYED_HEADERS if name in response.headers}
            await records.remember(
                self.session,
                organisation=self.principal.enterprise_number,
                key=self.key,
                status_code=response.status_code,
                body=json.loads(bytes(response.body)),
                headers=headers,
            )
        return response
