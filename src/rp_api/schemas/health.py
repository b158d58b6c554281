"""Health of the service (Belgif health check)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from rp_api.schemas.base import ApiModel

HealthStatus = Literal["UP", "DEGRADED", "DOWN"]


class Health(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "UP"}, {"status": "DOWN"}]})

    status: HealthStatus = Field(description="UP: working; DEGRADED: partly available; DOWN: not working.")
