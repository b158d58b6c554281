"""CIN MemberData: the insurer a person is affiliated to on a date."""

from __future__ import annotations

from datetime import date

from rp_api.clients.base import LEGAL_CONTEXT, UpstreamClient, UpstreamModel


class InsurerAffiliation(UpstreamModel):
    ssin: str
    oa_number: int
    since: date


class MemberDataClient(UpstreamClient):
    source = "memberData"

    async def affiliation(
        self, *, ssin: str, on: date, trace_id: str | None, legal_context: str = LEGAL_CONTEXT
    ) -> InsurerAffiliation | None:
        """The affiliation on that date, or None when the person is affiliated nowhere."""
        return await self._query(
            "/affiliations/query",
            {"ssin": ssin, "date": on.isoformat()},
            InsurerAffiliation,
            trace_id=trace_id,
            absent_on_404=True,
            legal_context=legal_context,
        )
