"""JobSeeker via DAAS: the regional services where a person is registered, with the registration date."""

from __future__ import annotations

from datetime import date

from rp_api.clients.base import LEGAL_CONTEXT, UpstreamClient, UpstreamModel


class Registration(UpstreamModel):
    regional_service: str
    """Enterprise number of the regional service (VDAB, Forem, Actiris, ADG)."""
    registration_date: date


class Registrations(UpstreamModel):
    items: list[Registration]


class JobSeekerClient(UpstreamClient):
    source = "jobSeeker"

    async def registrations(
        self, *, ssin: str, trace_id: str | None, legal_context: str = LEGAL_CONTEXT
    ) -> list[Registration]:
        found = await self._query(
            "/registrations/query", {"ssin": ssin}, Registrations, trace_id=trace_id, legal_context=legal_context
        )
        assert found is not None
        return found.items
