"""National Register via CBSS: names, birth and death dates, and SSIN replacements (mutations)."""

from __future__ import annotations

from datetime import date

from rp_api.clients.base import LEGAL_CONTEXT, UpstreamClient, UpstreamModel


class RegisteredPerson(UpstreamModel):
    ssin: str
    given_name: str
    family_name: str
    birth_date: date
    death_date: date | None = None
    replaced_by: str | None = None
    """The SSIN that replaces this one, when the National Register changed it."""


class NationalRegisterClient(UpstreamClient):
    source = "nationalRegister"

    async def person(
        self, *, ssin: str, trace_id: str | None, legal_context: str = LEGAL_CONTEXT
    ) -> RegisteredPerson | None:
        """The person, or None when the register does not know the SSIN."""
        return await self._query(
            "/persons/query",
            {"ssin": ssin},
            RegisteredPerson,
            trace_id=trace_id,
            absent_on_404=True,
            legal_context=legal_context,
        )
