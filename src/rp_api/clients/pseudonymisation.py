"""eHealth blinded pseudonymisation: the person's pseudonym in another platform's domain (TRIO)."""

from __future__ import annotations

from rp_api.clients.base import UpstreamClient, UpstreamModel


class Pseudonym(UpstreamModel):
    domain: str
    pseudonym: str


class PseudonymisationClient(UpstreamClient):
    source = "pseudonymisation"

    async def pseudonym(self, *, ssin: str, domain: str, trace_id: str | None) -> Pseudonym:
        found = await self._query("/pseudonymize", {"ssin": ssin, "domain": domain}, Pseudonym, trace_id=trace_id)
        assert found is not None
        return found
