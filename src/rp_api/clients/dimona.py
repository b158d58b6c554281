"""Dimona via DAAS: a person's current employers."""

from __future__ import annotations

from datetime import date

from rp_api.clients.base import LEGAL_CONTEXT, UpstreamClient, UpstreamModel


class Employer(UpstreamModel):
    enterprise_number: str
    name: str


class Employers(UpstreamModel):
    items: list[Employer]


class DimonaClient(UpstreamClient):
    source = "dimona"

    async def current_employers(
        self, *, ssin: str, on: date, trace_id: str | None, legal_context: str = LEGAL_CONTEXT
    ) -> list[Employer]:
        found = await self._query(
            "/employments/query",
            {"ssin": ssin, "date": on.isoformat()},
            Employers,
            trace_id=trace_id,
            legal_context=legal_context,
        )
        assert found is not None
        return found.items
