"""The OpenAPI contract, the Belgif way: a default problem answer on every operation and examples of each status's own
problems; the headers each operation reads and sets, found in its code; a description per operation and tag; no
schema title; the YAML copy; and Spectral's lint (``.spectral.yaml``) with nothing to say."""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import json
import os
import pkgutil
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI, Request
from fastapi.responses import Response

import rp_api
from rp_api import contract, openapi
from rp_api.domain.visibility import READ, Block, Read
from rp_api.preconditions import require_if_match
from rp_api.routers import api_router
from rp_api.schemas.registration_form import RegistrationFormOut
from rp_api.simulator.population import SimulatedPerson
from tests.integration.test_dossiers_and_forms import PHYSICIAN_CONTENT, Caller
from tests.token_factory import TokenFactory

METHODS = ("get", "put", "post", "delete", "patch")
HEADER_PARAMETERS = {
    "If-Match": "#/components/parameters/IfMatch",
    "Idempotency-Key": "#/components/parameters/IdempotencyKey",
    "Accept-Language": "#/components/parameters/AcceptLanguage",
}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {operation["operationId"]: operation for _, _, operation in operations(document)}


def examples_of(document: dict[str, Any], response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A problem answer's examples, their references resolved."""
    found = {}
    for name, example in response["content"]["application/problem+json"]["examples"].items():
        reference = example["$ref"]
        assert reference.startswith("#/components/examples/")
        found[name] = document["components"]["examples"][reference.rsplit("/", 1)[-1]]["value"]
    return found


def header_parameters(operation: dict[str, Any]) -> set[str]:
    return {name for name, ref in HEADER_PARAMETERS.items() if {"$ref": ref} in operation.get("parameters", [])}


# ------------------------------------------------------------------------------------------------------ problems
def test_every_operation_has_a_default_problem_answer(app: FastAPI) -> None:
    document = app.openapi()
    for path, method, operation in operations(document):
        default = operation["responses"].get("default")
        assert default is not None, f"{method} {path}"
        assert set(default["content"]) == {"application/problem+json"}
        assert default["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_every_error_status_is_exemplified_by_problems_of_that_status(app: FastAPI) -> None:
    document = app.openapi()
    seen: dict[str, set[str]] = {}
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if not (status.startswith(("4", "5")) or status == "default") or path == "/health":
                continue
            assert set(response["content"]) == {"application/problem+json"}, f"{method} {path} {status}"
            examples = examples_of(document, response)
            assert examples, f"{method} {path} {status}"
            for name, value in examples.items():
                assert value["status"] == (500 if status == "default" else int(status)), (path, status, name)
                assert name == value["type"].rsplit(":", 1)[-1] or value["type"] == "about:blank"
                seen.setdefault(status, set()).add(value["type"])
    belgif = "urn:problem-type:belgif:"
    assert f"{belgif}badRequest" in seen["400"]
    assert f"{belgif}noAccessToken" in seen["401"]
    assert f"{belgif}missingPermission" in seen["403"]
    assert f"{belgif}resourceNotFound" in seen["404"]
    assert seen["412"] == {"urn:problem-type:rp:precondition"}
    assert seen["428"] == {"urn:problem-type:rp:preconditionRequired"}
    assert seen["422"] == {"urn:problem-type:rp:idempotencyKeyReused"}
    assert f"{belgif}payloadTooLarge" in seen["413"]
    assert seen["502"] == {f"{belgif}badGateway"}
    assert seen["503"] == {f"{belgif}serviceUnavailable"}
    # no status shows another status's problem any more (every one of them used to show resourceNotFound)
    assert f"{belgif}resourceNotFound" not in seen["400"] | seen["403"] | seen["409"]


def test_a_bad_request_example_has_issues(app: FastAPI) -> None:
    document = app.openapi()
    operation = by_id(document)["createRegistrationForm"]
    bad = examples_of(document, operation["responses"]["400"])["badRequest"]
    assert bad["issues"]
    assert all({"type", "title", "in", "name"} <= set(issue) for issue in bad["issues"])
    assert not any("value" in issue for issue in bad["issues"] if issue["in"] == "body")  # never echoed


@pytest.mark.parametrize(
    ("operation_id", "conflicts"),
    [
        ("createRegistrationForm", {"consentRequired"}),
        ("updateRegistrationForm", {"formNotDraft", "transitionNotAllowed", "consentRequired"}),
        ("closeDossier", {"transitionNotAllowed"}),
        ("withdrawConsent", {"transitionNotAllowed"}),
        ("submitRequest", {"registrationFormNotValid"}),
        ("recordDecisionRound", {"batchItemRefused"}),
        ("createConversation", {"consentRequired"}),
    ],
)
def test_conflicts_are_exemplified_by_the_types_the_operation_raises(
    app: FastAPI, operation_id: str, conflicts: set[str]
) -> None:
    document = app.openapi()
    operation = by_id(document)[operation_id]
    assert set(examples_of(document, operation["responses"]["409"])) == conflicts


def test_every_problem_class_has_an_example() -> None:
    for problem_class in openapi._problem_classes():
        problem = contract.sample(problem_class)
        assert problem.as_json(None)["status"] == problem.status >= 400


# ------------------------------------------------------------------------------------------------------- headers
EXPECTED_IF_MATCH = {
    "closeDossier",
    "updateRegistrationForm",
    "submitRegistrationForm",
    "cancelRegistrationForm",
    "decideTargetGroup",
    "validateRequest",
    "withdrawRequest",
    "addMedicalInformation",
    "addMedicalAdvice",
    "withdrawConsent",
}


def test_if_match_idempotency_key_and_accept_language_are_documented_where_the_code_reads_them(app: FastAPI) -> None:
    operations_by_id = by_id(app.openapi())
    documented = {name: header_parameters(operation) for name, operation in operations_by_id.items()}
    if_match = {name for name, headers in documented.items() if "If-Match" in headers}
    assert if_match >= EXPECTED_IF_MATCH
    for name in ("createRegistrationForm", "openDossier", "getDossier", "recordConsent", "submitRequest"):
        assert "If-Match" not in documented[name], name  # a creation or a read takes none
    for name in if_match:
        assert {"If-Match", "Accept-Language"} <= documented[name]  # 412 and 428 are titled in the caller's language
        assert {"412", "428"} <= set(operations_by_id[name]["responses"]), name
    idempotent = {name for name, headers in documented.items() if "Idempotency-Key" in headers}
    assert {"openDossier", "createRegistrationForm", "recordConsent", "submitRequest", "recordDecisionRound"} <= (
        idempotent
    )
    assert {"getDossier", "createConversation", "postMessage"}.isdisjoint(idempotent)
    for name in idempotent:
        assert "422" in operations_by_id[name]["responses"], name
    for name, operation in operations_by_id.items():
        if_match_parameter = [p for p in operation["parameters"] if p == {"$ref": HEADER_PARAMETERS["If-Match"]}]
        assert len(if_match_parameter) == ("If-Match" in documented[name]), name
        assert {"$ref": "#/components/parameters/BelGovTraceId"} in operation["parameters"], name


def _reads_of_documented_headers() -> Iterator[tuple[Any, str]]:
    """Every function of API RP that reads a documented request header itself (``….headers.get("if-match")``,
    ``….headers[HEADER]``), with the header."""
    documented = {header.lower(): header for header in contract.DOCUMENTED_REQUEST_HEADERS}
    for module in _modules():
        try:
            tree = ast.parse(inspect.getsource(module))
        except (OSError, TypeError):
            continue
        for owner, function in _functions(tree):
            for node in ast.walk(function):
                name = _header_read(node, vars(module))
                if name is not None and name.lower() in documented:
                    target = getattr(module, owner) if owner else module
                    target = inspect.getattr_static(target, function.name, None)
                    assert target is not None, f"{module.__name__}.{function.name} reads {name}: not reachable by name"
                    yield getattr(target, "__func__", target), documented[name.lower()]


def _modules() -> Iterator[Any]:
    """Every module of API RP (a ``__main__`` would run when imported: there is none to read there)."""
    for module_info in pkgutil.walk_packages(rp_api.__path__, "rp_api."):
        if module_info.name.rsplit(".", 1)[-1] != "__main__":
            yield importlib.import_module(module_info.name)


def _functions(tree: ast.Module) -> Iterator[tuple[str | None, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield None, node
        elif isinstance(node, ast.ClassDef):
            for inner in node.body:
                if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield node.name, inner


def _header_read(node: ast.AST, names: dict[str, Any]) -> str | None:
    """The header a ``x.headers.get(<name>)`` or ``x.headers[<name>]`` reads, its name a literal or a constant."""
    argument: ast.expr | None = None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        holder, argument = node.func.value, node.args[0]
    elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        holder, argument = node.value, node.slice
    else:
        return None
    if not (isinstance(holder, ast.Attribute) and holder.attr == "headers"):
        return None
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    if isinstance(argument, ast.Name) and isinstance(names.get(argument.id), str):
        return str(names[argument.id])
    return None


def test_whoever_reads_a_documented_header_reaches_the_code_that_documents_it() -> None:
    """A route that read ``If-Match`` (or ``Idempotency-Key``, ``Accept-Language``) by hand, not through its
    primitive, would not be documented: here it fails."""
    primitives = set(contract.REQUEST_HEADER_PRIMITIVES)
    primitive_methods = {
        function for cls in primitives if inspect.isclass(cls) for function in vars(cls).values() if callable(function)
    }
    found = list(_reads_of_documented_headers())
    assert {header for _, header in found} == contract.DOCUMENTED_REQUEST_HEADERS
    for function, header in found:
        if function in primitives or function in primitive_methods:
            continue
        assert header in contract.reach_of(function).request_headers, f"{function.__qualname__} reads {header}"


def test_every_caller_of_a_header_primitive_is_followed_from_a_route_that_documents_the_header(app: FastAPI) -> None:
    """The code analysis reaches every place that calls a header primitive (none hides behind a call it cannot
    follow), from an operation whose description documents that header."""
    document = by_id(app.openapi())
    followed: dict[str, set[object]] = {header: set() for header in contract.DOCUMENTED_REQUEST_HEADERS}
    for route in openapi._api_routes(app):
        reached = contract.reach(route)
        for header in header_parameters(document[route.operation_id]):
            followed[header] |= reached.functions
    for primitive, headers in contract.REQUEST_HEADER_PRIMITIVES.items():
        name = getattr(primitive, "__name__", "")
        for caller in _callers_of(name):
            if caller in contract.REQUEST_HEADER_PRIMITIVES or any(
                caller in vars(cls).values() for cls in contract.REQUEST_HEADER_PRIMITIVES if inspect.isclass(cls)
            ):
                continue
            for header in headers:
                assert caller in followed[header], (
                    f"{caller.__qualname__} calls {name}: no operation documents {header}"
                )


def _callers_of(name: str) -> Iterator[Any]:
    for module in _modules():
        if module.__name__.startswith("rp_api.simulator"):
            continue
        try:
            tree = ast.parse(inspect.getsource(module))
        except (OSError, TypeError):
            continue
        for owner, function in _functions(tree):
            calls = [
                node
                for node in ast.walk(function)
                if isinstance(node, ast.Call)
                and (
                    (isinstance(node.func, ast.Name) and node.func.id == name)
                    or (isinstance(node.func, ast.Attribute) and node.func.attr == name)
                )
            ]
            if calls:
                target = inspect.getattr_static(getattr(module, owner) if owner else module, function.name)
                yield getattr(target, "__func__", target)


async def _if_match_helper(request: Request) -> None:
    require_if_match(request, 1)


def test_a_new_route_is_documented_from_its_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """A route added tomorrow gets its headers and answers documented with nothing to declare."""
    monkeypatch.setattr(contract, "OWN_PACKAGES", ("rp_api", "tests"))
    contract.forget()
    router = api_router(tags=["Dossiers"])

    @router.post("/things/{thingId}/archive", operation_id="archiveThing")
    async def archive(request: Request) -> Response:
        await _if_match_helper(request)
        return Response(status_code=204, headers={"ETag": '"2"'})

    @router.get("/things/{thingId}", operation_id="getThing")
    async def get_thing() -> Response:
        return Response(status_code=204)

    app = FastAPI()
    app.include_router(router)
    try:
        document = by_id(openapi.build(app))
    finally:
        monkeypatch.undo()
        contract.forget()
    assert header_parameters(document["archiveThing"]) == {"If-Match", "Accept-Language"}
    assert {"412", "428", "400", "default"} <= set(document["archiveThing"]["responses"])
    assert header_parameters(document["getThing"]) == set()
    assert {"412", "428"}.isdisjoint(document["getThing"]["responses"])


def test_response_headers_are_documented_where_the_code_sets_them(app: FastAPI) -> None:
    document = by_id(app.openapi())

    def headers(operation_id: str, status: str) -> set[str]:
        return set(document[operation_id]["responses"][status].get("headers", {}))

    assert {"ETag", "Location", "Idempotent-Replayed"} <= headers("createRegistrationForm", "201")
    assert {"ETag", "Location"} <= headers("openDossier", "201")
    assert "ETag" in headers("getDossier", "200")
    assert "Location" in headers("createConversation", "201")
    assert "Location" not in headers("recordDecisionRound", "201")  # a round has no URL of its own
    assert "Location" not in headers("postMessage", "201")
    assert "ETag" not in headers("listConversations", "200")
    assert "Link" in headers("listDecisions", "200")
    assert "WWW-Authenticate" in headers("getMe", "401")
    for path, method, operation in operations(app.openapi()):
        for status, response in operation["responses"].items():
            assert "BelGov-Trace-Id" in response.get("headers", {}), f"{method} {path} {status}"


async def test_what_the_document_says_of_headers_is_what_the_service_does(
    client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson, app: FastAPI
) -> None:
    document = by_id(app.openapi())
    physician = Caller(client, tokens.token("Solidaris", ["medicalAdvisor"]))
    dossier = (await physician.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()
    create = f"/dossiers/{dossier['id']}/registrationForms"
    created = await physician.post(create, PHYSICIAN_CONTENT, **{"Idempotency-Key": "contract-1"})
    assert created.status_code == 201
    for header in document["createRegistrationForm"]["responses"]["201"]["headers"]:
        if header not in ("Idempotent-Replayed", "BelGov-Related-Trace-Id"):
            assert header in created.headers, header
    replayed = await physician.post(create, PHYSICIAN_CONTENT, **{"Idempotency-Key": "contract-1"})
    assert (replayed.status_code, replayed.headers["Idempotent-Replayed"]) == (201, "true")
    reused = await physician.post(create, {"expectations": "Other"}, **{"Idempotency-Key": "contract-1"})
    assert reused.status_code == 422
    assert reused.json()["type"] in examples_types(app, "createRegistrationForm", "422")

    form = created.json()
    submit = document["submitRegistrationForm"]
    assert "If-Match" in header_parameters(submit)
    missing = await physician.post(f"/registrationForms/{form['id']}/submit", **{"Accept-Language": "nl-BE"})
    assert missing.status_code == 428
    assert missing.json()["type"] in examples_types(app, "submitRegistrationForm", "428")
    assert missing.json()["title"] == "If-Match met de ETag van de resource is vereist"  # Accept-Language read
    stale = await physician.post(f"/registrationForms/{form['id']}/submit", **{"If-Match": '"99"'})
    assert stale.status_code == 412
    traced = await physician.get(f"/registrationForms/{form['id']}", **{"BelGov-Trace-Id": "my-trace-1"})
    assert traced.headers["BelGov-Related-Trace-Id"] == "my-trace-1"
    for header in document["getRegistrationForm"]["responses"]["200"]["headers"]:
        assert header in traced.headers, header


def examples_types(app: FastAPI, operation_id: str, status: str) -> set[str]:
    document = app.openapi()
    return {
        value["type"] for value in examples_of(document, by_id(document)[operation_id]["responses"][status]).values()
    }


# -------------------------------------------------------------------------------------------------- descriptions
def test_every_operation_and_tag_is_described(app: FastAPI) -> None:
    document = app.openapi()
    described_tags = {tag["name"] for tag in document["tags"] if tag.get("description")}
    undescribed = []
    for path, method, operation in operations(document):
        assert set(operation["tags"]) <= described_tags, f"{method} {path}: describe its tag in rp_api.openapi.TAGS"
        description = operation["description"]
        assert "**Who may call it.**" in description, f"{method} {path}"
        first = description.split("\n\n", 1)[0]
        if first.strip() == operation["summary"].strip():  # only the summary: nobody said what it does
            undescribed.append(operation["operationId"])
    assert not undescribed, f"operations with no description of their own: {undescribed}"


def test_who_may_call_follows_the_route(app: FastAPI) -> None:
    document = by_id(app.openapi())
    assert "no token" in document["checkHealth"]["description"]
    assert "auditors' too" in document["getMe"]["description"]
    assert "names a person" in document["getDossier"]["description"]
    assert "Each line names a person" in document["queryDossiers"]["description"]
    assert "a list manager's token reads this list" in document["listDecisions"]["description"]
    assert "reads its lists and nothing else" in document["queryRequests"]["description"]


def test_what_each_actor_sees_is_the_visibility_table(app: FastAPI) -> None:
    document = by_id(app.openapi())
    request = document["getRequest"]["description"]
    assert "What each actor sees" in request
    lines = {line.split(":", 1)[0].lstrip("- "): line for line in request.splitlines() if line.startswith("- ")}
    assert set(lines) == {"insurer", "regional service", "prevention service", "INAMI"}
    # every block a type's working roles never read is listed as never seen, and the others are not
    from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role

    names = {
        "insurer": OrganisationType.INSURER,
        "regional service": OrganisationType.REGIONAL_SERVICE,
        "prevention service": OrganisationType.PREVENTION_SERVICE,
        "INAMI": OrganisationType.INAMI,
    }
    for label, organisation_type in names.items():
        never = lines[label].split("; never ", 1)[1] if "; never " in lines[label] else ""
        for block in (b for b in Block if b.value.startswith("request")):
            nobody = all(
                READ[organisation_type, role, block].level is Read.NO
                for role in ROLES_BY_TYPE[organisation_type]
                if role not in (Role.AUDITOR, Role.LIST_MANAGER)
            )
            assert (f"`{block.value}`" in never) == nobody, (label, block)
    assert "`request.costs`" in lines["prevention service"].split("; never ", 1)[1]
    assert "What each actor sees" in document["getDossier"]["description"]
    assert "What each actor sees" in document["getRegistrationForm"]["description"]
    assert "What each actor sees" not in document["listDecisions"]["description"]  # list lines: no view


# ---------------------------------------------------------------------------------------------- schemas, examples
def test_no_schema_carries_a_title(app: FastAPI) -> None:
    document = app.openapi()

    def titles(schema: Any, where: str) -> Iterator[str]:
        if isinstance(schema, dict):
            if isinstance(schema.get("title"), str):
                yield where
            for key, value in schema.items():
                if key in ("examples", "example", "default", "enum", "const"):
                    continue
                if key == "properties":
                    for name, inner in value.items():
                        yield from titles(inner, f"{where}.{name}")
                else:
                    yield from titles(value, f"{where}.{key}")
        elif isinstance(schema, list):
            for index, inner in enumerate(schema):
                yield from titles(inner, f"{where}[{index}]")

    found = list(titles(document["components"]["schemas"], "schemas"))
    found += list(titles(document["paths"], "paths"))
    assert not found, found[:10]
    # a property named title is a property, not a title
    assert "title" in document["components"]["schemas"]["Problem"]["properties"]


def test_a_new_registration_form_is_exemplified_as_a_draft(app: FastAPI) -> None:
    created = by_id(app.openapi())["createRegistrationForm"]["responses"]["201"]["content"]["application/json"]
    assert created["example"]["status"] == "draft"
    assert RegistrationFormOut.model_validate(created["example"]).status == "draft"


# ---------------------------------------------------------------------------------------------------------- YAML
async def test_the_document_is_served_as_yaml_too_without_a_token(client: httpx.AsyncClient) -> None:
    as_yaml = await client.get("/rp/v1/doc/openapi.yaml")
    assert as_yaml.status_code == 200
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    as_json = await client.get("/openapi.json")
    assert yaml.safe_load(as_yaml.text) == as_json.json()
    # numbers in strings are quoted, so that a YAML 1.2 reader (Spectral) reads strings: 0411159046 is no number
    assert not re.search(r":\s+0[0-9]+\s*$", as_yaml.text, re.MULTILINE)
    assert "'0411159046'" in as_yaml.text


# ------------------------------------------------------------------------------------------------------ Spectral
def spectral(repo_root: Path, document: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    """Spectral's findings on a document, with the repository's ruleset (installed by tools/spectral/lint)."""
    path = tmp_path / "openapi.yaml"
    path.write_text(openapi.to_yaml(document), encoding="utf-8")
    done = subprocess.run(
        ["bash", str(repo_root / "tools" / "spectral" / "lint"), str(path), "--format", "json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode in (0, 1), f"spectral did not run ({done.returncode}): {done.stderr[-2000:]}"
    findings: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    return findings


def test_spectral_finds_nothing_in_the_document(app: FastAPI, repo_root: Path, tmp_path: Path) -> None:
    findings = spectral(repo_root, app.openapi(), tmp_path)
    summary = [f"{f['code']} {'.'.join(map(str, f['path']))}: {f['message']}" for f in findings]
    assert not findings, "\n".join(summary[:40])


def test_the_belgif_rules_find_what_they_are_for(app: FastAPI, repo_root: Path, tmp_path: Path) -> None:
    """Each of the ruleset's own rules, on a document broken the way it forbids."""
    document = copy.deepcopy(app.openapi())
    paths = document["paths"]
    paths["/rp/v1/snake_case"] = paths.pop("/rp/v1/me")
    me = paths["/rp/v1/snake_case"]["get"]
    del me["responses"]["default"]
    me["operationId"] = "Get_Me"
    me["responses"]["401"]["content"] = {"application/json": {"schema": {"type": "object"}}}
    del me["responses"]["200"]["headers"]["BelGov-Trace-Id"]
    me["parameters"].append({"name": "page_size", "in": "query", "schema": {"type": "integer"}})
    document["components"]["schemas"]["Health"]["title"] = "Health"
    document["components"]["schemas"]["Health"]["properties"]["snake_case"] = {"type": "string"}
    codes = {finding["code"] for finding in spectral(repo_root, document, tmp_path)}
    assert {
        "belgif-path-lower-camel-case",
        "belgif-operation-id",
        "belgif-default-response",
        "belgif-problem-json-on-errors",
        "belgif-trace-id-on-every-response",
        "belgif-query-parameter-lower-camel-case",
        "belgif-property-lower-camel-case",
        "belgif-no-schema-title",
    } <= codes
