"""National Register via CBSS: names, birth and death dates, and SSIN replacements (mutations)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import StringConstraints

from rp_api.clients.base import LEGAL_CONTEXT, UpstreamClient, UpstreamModel

RegisterSsin = Annotated[str, StringConstraints(pattern=r"^[0-9]{11}$")]
"""An SSIN as the register writes it (11 digits): an answer naming another SSIN in any other form is not trusted
(502 ``badGateway`` for a decision that needs it), since the platform follows and stores it."""


class RegisteredPerson(UpstreamModel):
    ssin: str
    given_name: str
    family_name: str
    birth_date: date
    death_date: date | None = None
    replaced_by: RegisterSsin | None = None
    """The SSIN that replaces this one, when the National Register changed it."""
    previous_ssins: tuple[RegisterSsin, ...] = ()
    """The SSINs this one replaced (historique des NISS), oldest first: a person whose SSIN changed is known under
    the new one with the earlier ones listed, so that a call naming the new SSIN finds what is still stored under an
    earlier one (:mod:`rp_api.services.identity`)."""


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
