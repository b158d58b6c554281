"""INAMI's TRIO platform: does a TRIO dossier exist for a pseudonym (in TRIO's domain)."""

from __future__ import annotations

from rp_api.clients.base import UpstreamClient, UpstreamModel


class TrioDossier(UpstreamModel):
    exists: bool


class TrioClient(UpstreamClient):
    source = "trio"

    async def dossier_exists(self, *, pseudonym: str, trace_id: str | None) -> bool:
        found = await self._query("/dossiers/exists", {"pseudonym": pseudonym}, TrioDossier, trace_id=trace_id)
        assert found is not None
        return found.exists
