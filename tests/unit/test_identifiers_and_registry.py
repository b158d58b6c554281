"""SSIN and enterprise number checks, and the organisation registry shipped in the package."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role, roles_allowed
from rp_api.identifiers import (
    EnterpriseNumber,
    InvalidIdentifierError,
    Ssin,
    make_enterprise_number,
    make_ssin,
    normalise_enterprise_number,
    normalise_ssin,
)


@pytest.mark.parametrize(
    "value",
    [
        make_ssin(date(1985, 7, 30), 33),
        make_ssin(date(2003, 1, 2), 2),  # born in 2000 or later: the check uses a leading 2
        make_ssin(date(1985, 7, 30), 33, bis_month_offset=20),  # bis number, gender unknown
        make_ssin(date(2001, 7, 30), 34, bis_month_offset=40),  # bis number, gender known
    ],
)
def test_valid_ssins(value: str) -> None:
    assert normalise_ssin(value) == value


@pytest.mark.parametrize("value", ["85073003329", "8507300332", "850730033280", "85O73003328", ""])
def test_invalid_ssins(value: str) -> None:
    with pytest.raises(InvalidIdentifierError) as caught:
        normalise_ssin(value)
    assert value not in str(caught.value) or not value


def test_enterprise_numbers() -> None:
    number = make_enterprise_number(2_000_001)
    assert normalise_enterprise_number(number) == number
    assert normalise_enterprise_number(number[1:]) == number  # old 9-digit form, left-padded
    assert normalise_enterprise_number(f"{number[:4]}.{number[4:7]}.{number[7:]}") == number
    with pytest.raises(InvalidIdentifierError):
        normalise_enterprise_number(number[:-1] + str((int(number[-1]) + 1) % 10))
    with pytest.raises(InvalidIdentifierError):
        normalise_enterprise_number("2" + number[1:])


@pytest.mark.parametrize(
    ("annotated", "value", "error_type"),
    [
        (Ssin, "85073003329", "invalid_structure"),
        (Ssin, "8507300332", "string_pattern_mismatch"),
        (EnterpriseNumber, "0200000143", "invalid_structure"),
        (EnterpriseNumber, "2200000142", "string_pattern_mismatch"),
    ],
)
def test_schema_types_separate_shape_from_checksum(annotated: object, value: str, error_type: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(annotated).validate_python(value)
    assert caught.value.errors()[0]["type"] == error_type


def test_shipped_registry_covers_every_actor() -> None:
    registry = OrganisationRegistry.load()
    organisations = list(registry)
    assert {o.type for o in organisations} == set(OrganisationType)
    insurers = [o for o in organisations if o.type is OrganisationType.INSURER]
    assert sorted(o.oa_number for o in insurers if o.oa_number) == [100, 200, 300, 400, 500, 600, 900]
    assert any(o.oa_number is None for o in insurers), "the CIN"
    regional = {o.aliases[0] for o in organisations if o.type is OrganisationType.REGIONAL_SERVICE}
    assert regional == {"VDAB", "Forem", "Actiris", "ADG"}
    prevention = [o for o in organisations if o.type is OrganisationType.PREVENTION_SERVICE]
    assert len(prevention) == 10
    for organisation in organisations:
        assert normalise_enterprise_number(organisation.enterprise_number) == organisation.enterprise_number


@pytest.mark.parametrize("label", ["vdab", "VDAB", "Solidaris", "CIN"])
def test_find_by_name_or_alias(label: str) -> None:
    assert OrganisationRegistry.load().find(label) is not None


def test_find_by_number() -> None:
    registry = OrganisationRegistry.load()
    vdab = registry.find("VDAB")
    assert vdab is not None
    assert registry.find(vdab.enterprise_number) is vdab
    assert registry.find("no such organisation") is None


def _write(tmp_path: Path, organisations: list[dict[str, object]]) -> Path:
    path = tmp_path / "organisations.json"
    path.write_text(json.dumps({"version": "test", "organisations": organisations}))
    return path


@pytest.mark.parametrize(
    ("organisations", "message"),
    [
        ([{"enterpriseNumber": "0200000143", "type": "inami", "name": "X"}], "check number"),
        ([{"enterpriseNumber": "0200000142", "type": "inami", "name": "X", "oaNumber": 100}], "OA number"),
        (
            [
                {"enterpriseNumber": "0200000142", "type": "inami", "name": "X"},
                {"enterpriseNumber": "0200000142", "type": "insurer", "name": "Y"},
            ],
            "twice",
        ),
        (
            [
                {"enterpriseNumber": "0200000142", "type": "inami", "name": "X"},
                {"enterpriseNumber": make_enterprise_number(2_000_002), "type": "insurer", "name": "x"},
            ],
            "names both",
        ),
    ],
)
def test_registry_file_is_checked(tmp_path: Path, organisations: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OrganisationRegistry.load(_write(tmp_path, organisations))


def test_roles_belong_to_their_type() -> None:
    for organisation_type, roles in ROLES_BY_TYPE.items():
        for role in Role:
            assert roles_allowed(organisation_type, frozenset({role})) == (role in roles)
        assert not roles_allowed(organisation_type, frozenset())
