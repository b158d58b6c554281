"""The person's consent as the dossier records it (formulaire de consentement, deliberation 26/060 §63)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from rp_api.domain.consent import ConsentScope
from rp_api.identifiers import IsoDate, IsoDateTime
from rp_api.schemas.base import ApiModel

_CONSENT = "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e"
_DOSSIER = "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a"
_SCOPE = (
    "What the consent covers. `occupationalPhysicianContact`: the occupational physician (the prevention service) "
    "may contact the employment partner (the regional service) about the person — create a registration form, open "
    "a conversation with a regional service and write in it. Any other value is refused (400)."
)


def _printed(value: str) -> str:
    """A form version as printed on the form: no control character (C0, DEL, C1), no space around it."""
    if value != value.strip() or any(c < " " or "\x7f" <= c <= "\x9f" for c in value):
        raise PydanticCustomError("form_version", "Printable characters only, without leading or trailing space")
    return value


FormVersion = Annotated[str, AfterValidator(_printed)]


class ConsentIn(ApiModel):
    """A consent the person gave on the consent form. The caller's organisation and role (from its token) are kept
    as who recorded it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"scope": "occupationalPhysicianContact", "formVersion": "RP-2026.1", "givenOn": "2026-11-20"}]
        }
    )

    scope: ConsentScope = Field(description=_SCOPE)
    form_version: FormVersion = Field(
        min_length=1,
        max_length=40,
        description="The version of the consent form the person signed, as printed on it (no control character, no "
        "leading or trailing space).",
    )
    given_on: IsoDate = Field(description="The day the person signed the form; not after today (in Belgium).")


class RecordedBy(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"enterpriseNumber": "0411159046", "role": "occupationalPhysician"}]}
    )

    enterprise_number: str
    role: str


class ConsentOut(ApiModel):
    """A consent recorded on the dossier. It is in force (``inForce``) until it is withdrawn."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _CONSENT,
                    "dossierId": _DOSSIER,
                    "scope": "occupationalPhysicianContact",
                    "formVersion": "RP-2026.1",
                    "givenOn": "2026-11-20",
                    "recordedAt": "2026-11-20T10:15:00Z",
                    "recordedBy": {"enterpriseNumber": "0411159046", "role": "occupationalPhysician"},
                    "inForce": True,
                    "withdrawnAt": None,
                    "withdrawnBy": None,
                    "self": f"/rp/v1/consents/{_CONSENT}",
                }
            ]
        }
    )

    id: uuid.UUID
    dossier_id: uuid.UUID
    scope: ConsentScope = Field(description=_SCOPE)
    form_version: str
    given_on: IsoDate
    recorded_at: IsoDateTime
    recorded_by: RecordedBy | None = Field(
        default=None,
        description="The organisation and role (from the token) that recorded it; null for a caller not told of it "
        "(a prevention service other than the recorder, a regional service: the recorder would tell them of the "
        "person's employers).",
    )
    in_force: bool = Field(description="Recorded and not withdrawn.")
    withdrawn_at: IsoDateTime | None = Field(default=None, description="When the withdrawal was recorded.")
    withdrawn_by: str | None = Field(
        default=None,
        description="The enterprise number of the organisation that recorded the withdrawal (null as for "
        "`recordedBy`).",
    )
    self_: str = Field(alias="self")


class ConsentList(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "self": f"/rp/v1/dossiers/{_DOSSIER}/consents"}]}
    )

    items: list[ConsentOut] = Field(description="Every consent of the dossier, withdrawn ones too, oldest first.")
    self_: str = Field(alias="self")
