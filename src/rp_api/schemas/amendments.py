"""An amendment of a request (a JSON merge patch of its content) and an extension of a decided trajectory."""

from __future__ import annotations

from pydantic import ConfigDict, Field, JsonValue

from rp_api.domain.visibility import Block, readers_text
from rp_api.schemas.base import ApiModel
from rp_api.schemas.registration_form import Contact, InsurerContacts
from rp_api.schemas.request import Training

_TRAINING_EXAMPLE: dict[str, JsonValue] = {
    "provider": "Syntra",
    "title": "Forklift operator",
    "startDate": "2027-02-01",
    "endDate": "2027-04-30",
    "plannedHours": 140,
    "cost": "1690.00",
}


class AmendedTraining(Training):
    """A training of an amended request: as when the request was made, with the ``id`` the request shows for a
    training it keeps (a training without one is new)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "t1", **_TRAINING_EXAMPLE}]})

    id: str | None = Field(
        default=None,
        pattern=r"^t[1-9]\d{0,2}$",
        description="The id of a training of the request to keep (`t1`…); none for a new training. An id the "
        "request does not have, or the same id twice, is 400.",
    )


class ContactPatch(ApiModel):
    """A merge patch of a contact: a member given replaces it, a `null` member removes it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "+32 2 000 00 01"}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40)


class InsurerContactsPatch(ApiModel):
    """A merge patch of the insurer's contacts, contact by contact."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"returnToWorkCoordinator": {"name": "Marie Dubois"}}]})

    return_to_work_coordinator: ContactPatch | None = None
    advising_physician: ContactPatch | None = None
    multidisciplinary_team_member: ContactPatch | None = None


class RequestAmendment(ApiModel):
    """A JSON merge patch (RFC 7396, ``application/merge-patch+json``) of a request's content. A member left out
    stays as it is; a ``null`` member removes it; ``trainings`` replaces the whole list (send every training the
    request keeps, with its ``id``); ``insurerContacts`` and ``referenceAdvisor`` are merged member by member. The
    total cost is the sum of the trainings' costs. The type, the person, the registration form and health data are
    not part of an amendment (400 ``unknownInput``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "trainingProject": "Towards logistics, longer",
                    "trainings": [{"id": "t1", **_TRAINING_EXAMPLE}],
                }
            ]
        }
    )

    training_project: str | None = Field(default=None, max_length=4000, description="`null` removes it.")
    trainings: list[AmendedTraining] | None = Field(
        default=None,
        max_length=20,
        description="Replaces every training (a training request keeps at least one). Changing them on a "
        "regional service's training request the insurer validated voids that validation: the request waits for "
        "the insurer again.",
    )
    insurer_contacts: InsurerContactsPatch | None = Field(default=None, description="Merged contact by contact.")
    reference_advisor: ContactPatch | None = Field(default=None, description="Merged member by member.")


class AmendedContent(ApiModel):
    """A request's amendable content once the patch is applied, checked as a whole (what the patch leaves must be
    a valid content: a contact keeps its name, a training request keeps a training)."""

    training_project: str | None = Field(default=None, max_length=4000)
    trainings: list[AmendedTraining] = Field(default_factory=list, max_length=20)
    insurer_contacts: InsurerContacts | None = None
    reference_advisor: Contact | None = None


class ExtensionIn(ApiModel):
    """The content of the request that extends a decided trajectory (prolongation): its type, registration form
    and person are those of the request it extends."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "trainingProject": "Towards logistics: second stage",
                    "trainings": [_TRAINING_EXAMPLE],
                    "referenceAdvisor": {"name": "Jan Peeters"},
                }
            ]
        }
    )

    training_project: str | None = Field(default=None, max_length=4000)
    trainings: list[Training] = Field(
        default_factory=list, max_length=20, description="At least one when the extended request is a training."
    )
    insurer_contacts: InsurerContacts | None = None
    reference_advisor: Contact | None = None
    medical_information: str | None = Field(
        default=None,
        max_length=8000,
        description="Health data for INAMI's medical inspector. "
        + readers_text(Block.REQUEST_MEDICAL_INFORMATION, written=True)
        + " Another role sending it gets 400 naming it, and nothing is written.",
    )
