"""SEED-Connect via DAAS: the external prevention services an employer is affiliated to."""

from __future__ import annotations

from rp_api.clients.base import LEGAL_CONTEXT, UpstreamClient, UpstreamModel


class PreventionService(UpstreamModel):
    enterprise_number: str
    name: str


class PreventionServices(UpstreamModel):
    items: list[PreventionService]


class SeedConnectClient(UpstreamClient):
    source = "seedConnect"

    async def prevention_services(
        self, *, employer: str, trace_id: str | None, legal_context: str = LEGAL_CONTEXT
    ) -> list[PreventionService]:
        found = await self._query(
            "/affiliations/query",
            {"employerEnterpriseNumber": employer},
            PreventionServices,
            trace_id=trace_id,
            legal_context=legal_context,
        )
        assert found is not None
        return found.items
