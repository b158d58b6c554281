"""INAMI's TRIO platform: does a TRIO dossier exist for a pseudonym (in TRIO's domain)."""

from __future__ import annotations

from rp_api.clients.base import LEGAL_CONTEXT, UpstreamClient, UpstreamModel


class TrioDossier(UpstreamModel):
    exists: bool


class TrioClient(UpstreamClient):
    source = "trio"

    async def dossier_exists(self, *, pseudonym: str, trace_id: str | None, legal_context: str = LEGAL_CONTEXT) -> bool:
        found = await self._query(
            "/dossiers/exists", {"pseudonym": pseudonym}, TrioDossier, trace_id=trace_id, legal_context=legal_context
        )
        assert found is not None
        return found.exists
