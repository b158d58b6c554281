"""The organisation registry: every organisation API RP knows, with its enterprise number and type.

A versioned JSON file ships in the package (``data/organisations.json``); ``RP_ORGANISATIONS_FILE`` replaces it.
The file is validated when it is loaded: enterprise numbers are checked (mod 97) and unique, insurers carry an
OA number (100-900) except the CIN, and no name or alias designates two organisations.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from rp_api.domain.actors import OrganisationType
from rp_api.domain.routing import Directory
from rp_api.identifiers import normalise_enterprise_number


class Organisation(BaseModel):
    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True, extra="forbid")

    enterprise_number: str
    type: OrganisationType
    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    oa_number: int | None = Field(default=None, ge=100, le=999)

    @field_validator("enterprise_number")
    @classmethod
    def _checked(cls, value: str) -> str:
        return normalise_enterprise_number(value)

    @model_validator(mode="after")
    def _oa_number_only_for_insurers(self) -> Organisation:
        if self.oa_number is not None and self.type is not OrganisationType.INSURER:
            raise ValueError(f"{self.name}: only insurers have an OA number")
        return self


class _RegistryFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    note: str = ""
    organisations: tuple[Organisation, ...] = Field(min_length=1)


class OrganisationRegistry:
    def __init__(self, organisations: tuple[Organisation, ...], *, version: str) -> None:
        self.version = version
        self._by_number: dict[str, Organisation] = {}
        self._by_label: dict[str, Organisation] = {}
        for organisation in organisations:
            if organisation.enterprise_number in self._by_number:
                raise ValueError(f"enterprise number of {organisation.name} appears twice")
            self._by_number[organisation.enterprise_number] = organisation
            for label in (organisation.name, *organisation.aliases):
                known = self._by_label.setdefault(label.casefold(), organisation)
                if known is not organisation:
                    raise ValueError(f"{label!r} names both {known.name} and {organisation.name}")

        insurers: dict[int, set[str]] = {}
        for organisation in organisations:
            if organisation.oa_number is not None:
                insurers.setdefault(organisation.oa_number, set()).add(organisation.enterprise_number)
        self.directory = Directory(
            insurers={oa: frozenset(numbers) for oa, numbers in insurers.items()},
            inami=frozenset(o.enterprise_number for o in organisations if o.type is OrganisationType.INAMI),
        )
        """What work routing needs: the insurers by OA number, INAMI."""

    @classmethod
    def load(cls, path: Path | None = None) -> OrganisationRegistry:
        if path is None:
            text = resources.files("rp_api.authz").joinpath("data/organisations.json").read_text(encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        document = _RegistryFile.model_validate(json.loads(text))
        return cls(document.organisations, version=document.version)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_number.values())

    def by_enterprise_number(self, enterprise_number: str) -> Organisation | None:
        return self._by_number.get(enterprise_number)

    def find(self, label: str) -> Organisation | None:
        """By name, alias (case-insensitive) or enterprise number (any formatting)."""
        found = self._by_label.get(label.strip().casefold())
        if found is not None:
            return found
        try:
            return self._by_number.get(normalise_enterprise_number(label))
        except ValueError:
            return None
