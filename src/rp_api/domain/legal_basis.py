"""The legal basis of each actor (base légale par acteur): deliberation CSI/CSSS n° 26/060 gives every organisation
type of the return-to-work path (trajet de retour au travail) its own basis for processing a person's data, in its
§15–25. Pure data, no I/O.

Two uses, one table:

- an audit record of a permit carries the caller's :attr:`ActorBasis.text` (why this organisation may process the
  person's data); the link that made the basis apply (affiliation, registration, employer) is the record's reason;
- a call to an authentic source carries, in its ``Legal-Context`` header, the :attr:`ActorBasis.context` of the
  organisation type the call is made for (ASCII: an HTTP header value).

The exact paragraph of §15–25 for each actor is to be confirmed against the deliberation's text: each entry cites
"CSI/CSSS 26/060, §15–25" with the actor, and no finer reference than that.
"""

from __future__ import annotations

from dataclasses import dataclass

from rp_api.domain.actors import OrganisationType

DELIBERATION = "CSI/CSSS 26/060"
"""Deliberation n° 26/060 of the Information Security Committee, social security and health chamber."""
ACTOR_PARAGRAPHS = "§15–25"
"""Where the deliberation gives each actor its basis (the paragraph per actor: to be confirmed)."""
GENERAL_CONTEXT = f"deliberation {DELIBERATION}"
"""The ``Legal-Context`` of a call made for no particular actor."""


@dataclass(frozen=True)
class ActorBasis:
    """One actor's legal basis: the deliberation, the actor, and its mission in the return-to-work path."""

    organisation_type: OrganisationType
    actor: str
    """Who, as the deliberation names them."""
    mission: str
    """What the actor does in the return-to-work path, for which it processes the person's data."""

    @property
    def text(self) -> str:
        """The basis as an audit record states it."""
        return f"{DELIBERATION}, {ACTOR_PARAGRAPHS} ({self.actor}): {self.mission}"

    @property
    def context(self) -> str:
        """The basis as the ``Legal-Context`` header of a source call states it (ASCII)."""
        return f"{GENERAL_CONTEXT}, par. 15-25; actor={self.organisation_type.value}"


LEGAL_BASIS: dict[OrganisationType, ActorBasis] = {
    basis.organisation_type: basis
    for basis in (
        ActorBasis(
            OrganisationType.INSURER,
            "organismes assureurs (mutualités), their médecins-conseils and return-to-work coordinators",
            "assess the incapacitated insured person's remaining capacities and guide them back to work, referring "
            "them to the regional employment services and agreeing the path with INAMI",
        ),
        ActorBasis(
            OrganisationType.REGIONAL_SERVICE,
            "services publics régionaux de l'emploi (VDAB, Forem, Actiris, ADG)",
            "guide and train the person the insurer refers to them towards work, and report on that guidance",
        ),
        ActorBasis(
            OrganisationType.PREVENTION_SERVICE,
            "services externes de prévention et de protection au travail (médecins du travail)",
            "assess, with the employer, whether and how the worker can return to work (adapted or other work), "
            "in concertation with the insurer's médecin-conseil",
        ),
        ActorBasis(
            OrganisationType.INAMI,
            "INAMI/RIZIV",
            "decide on the requests of the return-to-work path (trainings, progressive resumption), fund them, and "
            "supervise the insurers' execution of the path",
        ),
    )
}
"""Every organisation type's basis (a table test checks that none is missing)."""


def basis_of(organisation_type: OrganisationType) -> ActorBasis:
    return LEGAL_BASIS[organisation_type]


def legal_context(organisation_type: OrganisationType | None) -> str:
    """The ``Legal-Context`` of a source call made for this organisation type (the general one for none)."""
    return GENERAL_CONTEXT if organisation_type is None else LEGAL_BASIS[organisation_type].context
