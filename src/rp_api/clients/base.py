"""What every authentic-source client shares: time bounds, retries of idempotent calls, typed failures, and the
headers of the Belgian social-security network (trace ids, legal context).

Every method of a client takes an optional ``legal_context``: the ``Legal-Context`` header of its call, the legal
basis of the organisation type the call is made for (:func:`rp_api.domain.legal_basis.legal_context`); without it,
the general one (:data:`LEGAL_CONTEXT`).

Failures come in two kinds, which callers keep apart:
- :class:`UpstreamUnavailable`: the source did not answer in time, or answered 5xx/429 after the retries (the
  access decision is a deny with 503 ``serviceUnavailable``);
- :class:`UpstreamBadResponse`: the source answered something we cannot trust (an unexpected status, a body that
  is not the documented model; the decision is a deny with 502 ``badGateway``).
Neither carries the request or response body, so no personal data travels in an exception.

Each call is timed by source and outcome, and each retry counted by source and what failed (:mod:`rp_api.metrics`).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import Any, TypeVar

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from rp_api import metrics
from rp_api.domain.legal_basis import GENERAL_CONTEXT

log = structlog.get_logger(__name__)

LEGAL_CONTEXT_HEADER = "Legal-Context"
LEGAL_CONTEXT = GENERAL_CONTEXT
"""The ``Legal-Context`` of a call made for no particular organisation type."""

M = TypeVar("M", bound=BaseModel)


class UpstreamModel(BaseModel):
    """A document exchanged with an authentic source (lowerCamelCase JSON); unknown fields are ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore")


class UpstreamError(Exception):
    def __init__(self, source: str, what: str) -> None:
        super().__init__(f"{source}: {what}")
        self.source = source
        self.what = what


class UpstreamUnavailable(UpstreamError):  # noqa: N818 - the two outcomes are named for what they mean
    """Retryable in principle: the source may answer later."""


class UpstreamBadResponse(UpstreamError):  # noqa: N818
    """Final: the source answered, wrongly."""


class UpstreamClient:
    """One authentic source. Subclasses expose keyword-only, typed methods built on :meth:`_query`."""

    source = "upstream"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str | None,
        timeout_s: float,
        retries: int,
        backoff_s: float,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout_s = timeout_s
        self.timeout = httpx.Timeout(timeout_s)
        self.retries = retries
        self.backoff_s = backoff_s

    async def _query(
        self,
        path: str,
        body: dict[str, Any],
        response_model: type[M],
        *,
        trace_id: str | None,
        idempotent: bool = True,
        absent_on_404: bool = False,
        legal_context: str = LEGAL_CONTEXT,
    ) -> M | None:
        """POST a query (person identifiers travel in bodies, never in URLs) and parse the answer.

        Returns None on 404 when ``absent_on_404``: the source does not know the subject.
        """
        if self.base_url is None:
            raise UpstreamUnavailable(self.source, "not configured")
        began = time.perf_counter()
        outcome = "cancelled"  # unless it ends one of the ways below
        try:
            answer = await self._attempts(
                path, body, response_model, trace_id, idempotent, absent_on_404, legal_context
            )
            outcome = "ok" if answer is not None else "absent"
            return answer
        except UpstreamBadResponse:
            outcome = "badResponse"
            raise
        except UpstreamUnavailable:
            outcome = "unavailable"
            raise
        finally:
            metrics.observe_upstream_call(self.source, outcome, time.perf_counter() - began)

    async def _attempts(
        self,
        path: str,
        body: dict[str, Any],
        response_model: type[M],
        trace_id: str | None,
        idempotent: bool,
        absent_on_404: bool,
        legal_context: str,
    ) -> M | None:
        attempts = 1 + (self.retries if idempotent else 0)
        for attempt in range(1, attempts + 1):
            headers = {
                "BelGov-Trace-Id": str(uuid.uuid4()),
                LEGAL_CONTEXT_HEADER: legal_context,
                "Accept": "application/json",
            }
            if trace_id:
                headers["BelGov-Related-Trace-Id"] = trace_id
            try:
                # httpx bounds each phase; asyncio bounds the whole exchange, whatever the transport.
                async with asyncio.timeout(self.timeout_s):
                    response = await self.http.post(
                        f"{self.base_url}{path}", json=body, headers=headers, timeout=self.timeout
                    )
            except (httpx.TransportError, TimeoutError) as exc:
                failure: UpstreamError = UpstreamUnavailable(self.source, type(exc).__name__)
                reason = "timeout" if isinstance(exc, (httpx.TimeoutException, TimeoutError)) else "network"
            else:
                if response.status_code == 404 and absent_on_404:
                    return None
                if response.status_code >= 500 or response.status_code == 429:
                    failure = UpstreamUnavailable(self.source, f"HTTP {response.status_code}")
                    reason = "tooManyRequests" if response.status_code == 429 else "serverError"
                elif response.status_code != 200:
                    raise UpstreamBadResponse(self.source, f"HTTP {response.status_code}")
                else:
                    return self._parse(response, response_model)
            if attempt < attempts:
                log.info("upstream_retry", source=self.source, attempt=attempt, failure=failure.what)
                metrics.count_upstream_retry(self.source, reason)
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1) * (0.5 + random.random()))  # noqa: S311
        log.warning("upstream_unavailable", source=self.source, failure=failure.what)
        raise failure

    def _parse(self, response: httpx.Response, response_model: type[M]) -> M:
        try:
            return response_model.model_validate_json(response.content)
        except ValidationError:
            log.warning("upstream_bad_response", source=self.source)
            raise UpstreamBadResponse(self.source, "body does not match the documented model") from None
