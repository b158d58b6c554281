"""eHealth's blinded pseudonymisation (deliberation 26/060 §8): the person's pseudonym in another platform's domain
(TRIO's), without the SSIN ever leaving in clear for the pseudonymisation service.

The exchange (the curve side, what was found of eHealth's service and what was assumed: :mod:`.blinding`):

1. the SSIN becomes a point P of P-521 (eHealth's value-to-point map); P stays in this process;
2. the client draws a random r and sends r·P::

       POST {base}/domains/{domain}/pseudonymize
       {"crv": "P-521", "x": "<base64 of x(r·P), 66 bytes>", "y": "<base64 of y(r·P), 66 bytes>"}

3. the service applies the domain's secret key k and answers k·r·P (unknown fields, e.g. ``transitInfo``, are
   ignored)::

       200 {"domain": "<domain>", "crv": "P-521", "x": "<base64>", "y": "<base64>"}

4. the client multiplies by r⁻¹ (mod the group's order): k·P, whose compressed SEC 1 encoding in base64url is the
   pseudonym (90 characters). The same SSIN in the same domain always gives the same pseudonym; different domains,
   different keys, different pseudonyms; two calls for the same SSIN send unrelated points.

Coordinates are base64 as eHealth's helpers send them (RFC 4648 §4; a shorter, minimal big-endian encoding is
accepted too); the pseudonym is base64url, as eHealth writes pseudonyms. An answer that is not a finite point of
P-521, names another domain or curve, or unblinds to ±P (no key applied: the pseudonym would be the SSIN's own
point) is :class:`~rp_api.clients.base.UpstreamBadResponse` — final, not retried; the service down or slow is
:class:`~rp_api.clients.base.UpstreamUnavailable` after the retries, each retry sending the same blinded point.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from rp_api.clients.base import LEGAL_CONTEXT, UpstreamBadResponse, UpstreamClient, UpstreamModel
from rp_api.clients.blinding import CURVE, blind, decode_point, encode_point, pseudonym_text, ssin_point, unblind


class Pseudonym(UpstreamModel):
    """A person's pseudonym in a domain (the unblinded k·P, as text)."""

    domain: str
    pseudonym: str


class BlindedPoint(UpstreamModel):
    """A point on the wire: eHealth's ``crv``, ``x`` and ``y`` (base64 coordinates)."""

    crv: Literal["P-521"] = CURVE
    x: str
    y: str


class EvaluatedPoint(BlindedPoint):
    """The service's answer: k·r·P, in the domain it names."""

    domain: str


class PseudonymisationClient(UpstreamClient):
    source = "pseudonymisation"

    async def pseudonym(
        self, *, ssin: str, domain: str, trace_id: str | None, legal_context: str = LEGAL_CONTEXT
    ) -> Pseudonym:
        point = ssin_point(ssin)
        factor, blinded = blind(point)
        x, y = encode_point(blinded)
        query = BlindedPoint(x=x, y=y)
        answer = await self._query(
            f"/domains/{quote(domain, safe='')}/pseudonymize",
            query.model_dump(),
            EvaluatedPoint,
            trace_id=trace_id,
            legal_context=legal_context,
        )
        assert answer is not None
        if answer.domain != domain:
            raise UpstreamBadResponse(self.source, "the answer names another domain")
        try:
            evaluated = decode_point(answer.x, answer.y)
            return Pseudonym(domain=domain, pseudonym=pseudonym_text(unblind(evaluated, factor, point)))
        except ValueError as exc:  # the message says what is wrong with the point, never what it is
            raise UpstreamBadResponse(self.source, f"the answer is not a pseudonym: {exc}") from None
