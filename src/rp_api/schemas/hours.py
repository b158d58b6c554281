"""Hours performed (relevé des heures prestées): the reports and the hours lists. No health data anywhere."""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import ConfigDict, Field

from rp_api.identifiers import IsoDateTime
from rp_api.schemas.base import ApiModel
from rp_api.schemas.request import MONTH_PATTERN

_REQUEST_ID = "5b8e2c1d-9a7f-4e3b-8c6d-1f2e3a4b5c6d"
_DOSSIER_ID = "0d3f6a2e-7c41-4b8e-9a15-2f6c8d9e0b17"


class HoursLine(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"requestId": _REQUEST_ID, "trainingId": "t1", "month": "2027-01", "hours": 32}]
        }
    )

    request_id: uuid.UUID
    training_id: str = Field(min_length=1, max_length=36)
    month: str = Field(pattern=MONTH_PATTERN)
    hours: Decimal = Field(ge=0, le=744, decimal_places=2, description="At most the hours of a month (31 × 24).")


class HoursReportIn(ApiModel):
    """Hours performed, per training and month, as one batch: all lines are recorded, or none."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": []}]})

    items: list[HoursLine] = Field(min_length=1, max_length=1000)


class HoursListItem(HoursLine):
    """A line of an hours list: the current version of the hours of one training in one month."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "requestId": _REQUEST_ID,
                    "trainingId": "t1",
                    "month": "2027-01",
                    "hours": "32.00",
                    "version": 2,
                    "ssin": "85073003328",
                    "dossierId": _DOSSIER_ID,
                    "reportedBy": "1839337457",
                    "reportedAt": "2027-02-03T09:12:00Z",
                }
            ]
        }
    )

    version: int = Field(description="1 for the first report; each correction is the next version (history kept).")
    ssin: str
    dossier_id: uuid.UUID
    reported_by: str = Field(
        description="The enterprise number of the organisation that reported this version: the party that runs the "
        "training (the regional service that asked for it, or the insurer that asked without a registration form)."
    )
    reported_at: IsoDateTime


class HoursList(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "self": "/rp/v1/hoursLists?month=2027-01", "next": None}]}
    )

    items: list[HoursListItem]
    self_: str = Field(alias="self")
    next: str | None = Field(default=None, description="The next page's `page` value; null on the last page.")
