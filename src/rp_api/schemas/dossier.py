"""Dossier (dossier de communication) documents."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import ConfigDict, Field

from rp_api.domain.visibility import Block, readers_text
from rp_api.identifiers import IsoDate, IsoDateTime, Ssin
from rp_api.schemas.base import ApiModel
from rp_api.schemas.registration_form import RegistrationFormOut
from rp_api.schemas.request import RequestOut

_DOSSIER_ID = "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a"

AuthenticSource = Literal[
    "nationalRegister", "memberData", "jobSeeker", "dimona", "seedConnect", "pseudonymisation", "trio"
]
"""The authentic sources a dossier is enriched from (``rp_api.authz.links.SOURCES``)."""


class DossierOpen(ApiModel):
    """Find the person's dossier, or start a trajectory in it (``start``: created when there is none). The SSIN
    travels in the body, never in a URL."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ssin": "85073003328"}, {"ssin": "85073003328", "start": "registrationForm"}]}
    )

    ssin: Ssin
    start: Literal["registrationForm", "request"] | None = Field(
        default=None,
        description="What the caller starts in the dossier, which lets it create the dossier when there is none "
        "(201): `registrationForm` (the roles that create a registration form in their organisation type: an "
        "insurer, a prevention service's occupational physician, a regional service's reference advisor) or "
        "`request` (a request without a form: an insurer's medical advisor or return-to-work coordinator). Absent: a "
        "lookup, which never creates a dossier (404 when there is none). Another role: 403. Never for a deceased "
        "person (404).",
    )


class PersonOut(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ssin": "85073003328", "givenName": "An", "familyName": "Peeters"}]}
    )

    ssin: str
    given_name: str | None = None
    family_name: str | None = None
    deceased: bool | None = None


class OrganisationRef(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"enterpriseNumber": "0411159046", "name": "Idewe"}]})

    enterprise_number: str
    name: str | None = None


class InsurerOut(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"oaNumber": 300, "name": "Solidaris"}]})

    oa_number: int
    name: str | None = None


class EmployerOut(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "enterpriseNumber": "0411159046",
                    "name": "Bakkerij Peeters",
                    "preventionServices": [{"enterpriseNumber": "0484833813", "name": "Idewe"}],
                }
            ]
        }
    )

    enterprise_number: str
    name: str
    prevention_services: list[OrganisationRef] | None = Field(
        description="null when SEED-Connect did not answer for this employer (`seedConnect` is then in the "
        "dossier's `unavailableSources`). To a prevention service: itself only (its own link)."
    )


class RegionalServiceOut(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"enterpriseNumber": "0847877592", "name": "VDAB", "registrationDate": "2026-02-01"}]
        }
    )

    enterprise_number: str
    name: str | None = None
    registration_date: IsoDate


class DossierOut(ApiModel):
    """The dossier as the caller may see it (enriched from the authentic sources, never stored beyond 24 h).

    A source the access decision does not need may fail without failing the call: the blocks it gives are then
    null and the source is named in `unavailableSources` (null: not known now; absent: nothing to show, or not for
    this caller)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _DOSSIER_ID,
                    "status": "active",
                    "person": {"ssin": "85073003328", "givenName": "An", "familyName": "Peeters"},
                    "insurer": {"oaNumber": 300, "name": "Solidaris"},
                    "employers": [],
                    "regionalServices": [],
                    "trioDossierExists": False,
                    "registrationForms": [],
                    "requests": [],
                    "createdAt": "2026-11-20T09:00:00Z",
                    "updatedAt": "2026-11-20T09:00:00Z",
                    "self": f"/rp/v1/dossiers/{_DOSSIER_ID}",
                    "unavailableSources": [],
                },
                {
                    "id": _DOSSIER_ID,
                    "status": "closed",
                    "closedAt": "2027-03-01T10:15:00Z",
                    "closedBy": {"enterpriseNumber": "0203337140", "name": "Solidaris"},
                    "person": {"ssin": "85073003328", "givenName": "An", "familyName": "Peeters"},
                    "insurer": {"oaNumber": 300, "name": "Solidaris"},
                    "employers": [],
                    "regionalServices": [],
                    "trioDossierExists": False,
                    "registrationForms": [],
                    "requests": [],
                    "createdAt": "2026-11-20T09:00:00Z",
                    "updatedAt": "2027-03-01T10:15:00Z",
                    "self": f"/rp/v1/dossiers/{_DOSSIER_ID}",
                    "unavailableSources": [],
                },
            ]
        }
    )

    id: uuid.UUID
    status: Literal["active", "closed"] = Field(
        description="`active` while a registration form or a request is open (a draft, a form awaiting the "
        "target-group decision, a submitted form no request was made on yet; a request awaiting the insurer's "
        "validation, at INAMI, or approved), and while the dossier holds none yet; `closed` when every form and "
        "request is finished (cancelled, not in the target group, or followed by a request; refused by the insurer "
        "or by INAMI, or withdrawn), or when the person's insurer or INAMI closed it (`closeDossier`). A new form "
        "or request makes it `active` again."
    )
    closed_at: IsoDateTime | None = Field(
        default=None, description="When the dossier closed (present only while it is `closed`)."
    )
    closed_by: OrganisationRef | None = Field(
        default=None,
        description="The organisation that closed the dossier explicitly (present only then; absent when it "
        "closed because its trajectory ended).",
    )
    person: PersonOut = Field(description=readers_text(Block.DOSSIER_PERSON))
    insurer: InsurerOut | None = Field(
        default=None,
        description="Absent when the person has no insurer; null when MemberData did not answer (`memberData` in "
        f"`unavailableSources`). {readers_text(Block.DOSSIER_INSURER)}",
    )
    employers: list[EmployerOut] | None = Field(
        default=None,
        description="null when Dimona did not answer (`dimona` in `unavailableSources`). A prevention service sees "
        "only the employers affiliated to it, each with itself as its only prevention service. "
        + readers_text(Block.DOSSIER_EMPLOYERS),
    )
    regional_services: list[RegionalServiceOut] | None = Field(
        default=None,
        description="null when JobSeeker did not answer (`jobSeeker` in `unavailableSources`). A regional service "
        f"sees only its own registration of the person. {readers_text(Block.DOSSIER_REGIONAL_SERVICES)}",
    )
    trio_dossier_exists: bool | None = Field(
        default=None,
        description="null when TRIO or the pseudonymisation before it did not answer (`trio` or `pseudonymisation` "
        f"in `unavailableSources`). {readers_text(Block.DOSSIER_TRIO)}",
    )
    registration_forms: list[RegistrationFormOut] = Field(
        default_factory=list, description=f"The forms the caller may read. {readers_text(Block.FORM)}"
    )
    requests: list[RequestOut] = Field(
        default_factory=list,
        description="With INAMI's decisions once taken; the requests the caller may read. "
        + readers_text(Block.REQUEST),
    )
    created_at: IsoDateTime
    updated_at: IsoDateTime
    self_: str = Field(alias="self")
    unavailable_sources: list[AuthenticSource] = Field(
        default_factory=list,
        description="The authentic sources that did not answer (error or timeout) or answered garbage while the "
        "dossier was put together: the blocks they give are null, the rest is shown. Empty when every source "
        "answered. A source the access decision needs never appears here: without it the call is refused "
        "(503 `serviceUnavailable`, 502 `badGateway`).",
        examples=[["jobSeeker", "dimona"]],
    )


class DossierClose(ApiModel):
    """Close the dossier explicitly (the person's insurer or INAMI): it stays closed until a new registration form
    or request is created in it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Return to work with the same employer"}]})

    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Why, in a few words (not kept: the dossier records who closed it and when).",
    )


class DossierQuery(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"modifiedSince": "2026-11-01T00:00:00Z", "pageSize": 20}]}
    )

    modified_since: IsoDateTime | None = None
    status: Literal["active", "closed"] | None = Field(
        default=None, description="Only the dossiers in this status (see the dossier's `status`)."
    )
    page_size: int = Field(default=20, ge=1, le=100)
    page: str | None = Field(default=None, max_length=200, description="The `next` cursor of the previous page.")


class DossierSummary(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _DOSSIER_ID,
                    "status": "active",
                    "ssin": "85073003328",
                    "updatedAt": "2026-11-20T09:00:00Z",
                    "self": f"/rp/v1/dossiers/{_DOSSIER_ID}",
                }
            ]
        }
    )

    id: uuid.UUID
    status: Literal["active", "closed"]
    ssin: str
    updated_at: IsoDateTime
    self_: str = Field(alias="self")


class DossierPage(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "self": "/rp/v1/dossiers/query", "next": None}]}
    )

    items: list[DossierSummary]
    self_: str = Field(alias="self")
    next: str | None = None
