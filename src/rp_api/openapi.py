"""The OpenAPI description: FastAPI's, completed the Belgif way.

- Belgif problems in place of FastAPI's 422 validation errors; every operation has a ``default`` problem answer and
  every problem answer has examples of its own status (the problems the operation's code raises, see
  :mod:`rp_api.contract`).
- The headers each operation reads (``If-Match``, ``Idempotency-Key``, ``Accept-Language``, and ``BelGov-Trace-Id``
  everywhere) and the response headers it sets (``ETag``, ``Location``, ``Link``, ``Idempotent-Replayed``,
  ``BelGov-Trace-Id``), found in its code by :func:`rp_api.contract.reach`: no list to keep.
- Every operation's description says who may call it and, for the views of a dossier, a form or a request, what each
  actor sees (generated from the visibility table, :mod:`rp_api.domain.visibility`); every tag is described.
- No ``title`` in the schemas (pydantic's, made of the field names, say nothing the names do not).

``rp-api openapi`` writes it to ``openapi/openapi.yaml``; a test fails when the committed file drifts. The service
serves it as JSON at ``/openapi.json`` and as YAML at ``/rp/v1/doc/openapi.yaml``; ``tests/integration/
test_contract.py`` lints it with Spectral (``.spectral.yaml``).
"""

from __future__ import annotations

import copy
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI, routing
from fastapi.openapi.utils import get_openapi
from starlette.requests import Request
from starlette.responses import Response

from rp_api import contract, problems
from rp_api.authz.guard import LISTS, authenticate, authenticate_working_role
from rp_api.authz.person_guard import PERSON_NAMED, GuardedList
from rp_api.domain.actors import ROLES_BY_TYPE, Role
from rp_api.domain.visibility import READ, TYPE_NAMES, Block, Read
from rp_api.idempotency import HEADER as IDEMPOTENCY_KEY
from rp_api.idempotency import REPLAYED
from rp_api.problems import PROBLEM_MEDIA_TYPE
from rp_api.tracing import RELATED_TRACE_HEADER, TRACE_HEADER
from rp_api.urls import API_PREFIX

COMMITTED_PATH = Path("openapi") / "openapi.yaml"
YAML_PATH = f"{API_PREFIX}/doc/openapi.yaml"
YAML_MEDIA_TYPE = "application/yaml"
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}

CONTACT = {"name": "INAMI-RIZIV, plate-forme Réinsertion Professionnelle", "url": "https://www.inami.fgov.be"}
LICENSE = {"name": "EUPL-1.2", "url": "https://interoperable-europe.ec.europa.eu/collection/eupl/eupl-text-eupl-12"}
SERVERS = [{"url": "/", "description": "This service (the paths carry the API's base path, /rp/v1)."}]

TAGS: list[dict[str, str]] = [
    {
        "name": "Dossiers",
        "description": "The person's return-to-work dossier: found by SSIN in the body (created only by a party "
        "that starts a trajectory), read as the caller may see it, listed for the caller's organisation, closed "
        "by the insurer or INAMI. Every call names a person: only an organisation linked to that person gets an "
        "answer, and every call is recorded in the person's audit log.",
    },
    {
        "name": "Registration forms",
        "description": "The registration form (formulaire d'inscription) an insurer, an occupational physician or "
        "a regional service (routing C) starts for the person: draft, submitted, awaiting the insurer's "
        "target-group decision, not in the target group, cancelled. Changes take `If-Match`; POSTs take "
        "`Idempotency-Key`; health data is written by physicians only.",
    },
    {
        "name": "Requests",
        "description": "Training and coaching requests (demande de formation, de trajet d'accompagnement) on a "
        "dossier, the insurer's validation (validation par l'OA), withdrawal, and the medical information and "
        "advice exchanged between the insurer's médecin-conseil and INAMI's medical inspector.",
    },
    {
        "name": "Work lists",
        "description": "What waits for the caller's organisation: the requests and registration forms work routing "
        "addressed to it, by status, type or queue, each line's person re-checked with the caller's current "
        "links. Lines carry no health data.",
    },
    {
        "name": "Decisions and hours",
        "description": "INAMI's weekly decision rounds, the decision list of each organisation (JSON or CSV), the "
        "hours a regional service reports per training and month, and the hours list (deliberation 26/060 §48: "
        "the list manager's lists). No list line carries health data.",
    },
    {
        "name": "Follow-up",
        "description": "The trajectory after INAMI's decision: what its requester records of it (started, "
        "interrupted, resumed, ended) and the follow-up lists of the parties.",
    },
    {
        "name": "Conversations",
        "description": "Messages between the organisations that take part in a dossier; medical conversations are "
        "read by physicians and those working under them only.",
    },
    {
        "name": "Change feed",
        "description": "Each organisation's change feed: ids of what changed for it, each event once and in order, "
        "each item's person re-checked with the caller's current links.",
    },
    {
        "name": "Consents",
        "description": "The person's consents (formulaire de consentement, deliberation 26/060 §63): what the "
        "occupational physician's contact with the employment partner waits for, recorded and withdrawn.",
    },
    {
        "name": "Statistics",
        "description": "Anonymous counts of requests for INAMI, small cells suppressed.",
    },
    {
        "name": "Caller",
        "description": "Who API RP takes the caller for (issuer, organisation, roles): an integrator's first call.",
    },
    {
        "name": "Audit",
        "description": "The audit log, for auditors: who accessed a person's data (INAMI's auditors, for the "
        "person's right of access) and what an organisation's users accessed (that organisation's auditors).",
    },
    {
        "name": "Monitoring",
        "description": "The service's health, for load balancers and orchestrators (no token).",
    },
]
"""The tags' descriptions, in the order the document lists them (an operation's tag missing here fails the lint)."""

# ------------------------------------------------------------------------------------------------ header components
PARAMETERS: dict[str, dict[str, Any]] = {
    "BelGovTraceId": {
        "name": TRACE_HEADER,
        "in": "header",
        "required": False,
        "description": "The caller's own trace id, if it has one: it comes back as `BelGov-Related-Trace-Id` "
        "(a value that is not 1 to 36 of `A-Z a-z 0-9 . _ : -` is ignored). The answer's own `BelGov-Trace-Id` "
        "is new on every call.",
        "schema": {"type": "string"},
        "example": "7c1c6a2e-4d0b-4f5e-9b3c-2f8a1d6e0b9a",
    },
    "IfMatch": {
        "name": contract.IF_MATCH,
        "in": "header",
        "required": True,
        "description": "The `ETag` of the resource as the caller last read it (or `*`): without it 428 "
        "`…rp:preconditionRequired`; when the resource changed since, 412 `…rp:precondition` (read it again). "
        "An idempotent replay (`Idempotency-Key`) is answered before this check.",
        "schema": {"type": "string"},
        "example": '"1"',
    },
    "IdempotencyKey": {
        "name": IDEMPOTENCY_KEY,
        "in": "header",
        "required": False,
        "description": "Any unique value of the caller's choice (a UUID): a retry with the same key and the same "
        "request does not do it twice; it is answered with the first call's status, the resource read again as "
        f"the caller may see it now, and `{REPLAYED}: true`. The same key with another request is 422 "
        "`…rp:idempotencyKeyReused`. A key belongs to one user of one organisation; 1 to 200 characters, no "
        "control character (else 400).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
        "example": "6f7d1c1e-2b8a-4c55-9a7e-0f3d2b1a9c44",
    },
    "AcceptLanguage": {
        "name": contract.ACCEPT_LANGUAGE,
        "in": "header",
        "required": False,
        "description": "The language of the `title` of API RP's own problems (`urn:problem-type:rp:…`): `fr`, "
        "`nl`, `de` or `en` (the default), `-BE` variants and q-values honoured.",
        "schema": {"type": "string"},
        "example": "fr-BE, nl;q=0.8",
    },
}
"""The request headers, by component name."""

_PARAMETER_OF_HEADER = {spec["name"]: name for name, spec in PARAMETERS.items()}

HEADERS: dict[str, dict[str, Any]] = {
    "BelGovTraceId": {
        "description": "This call's trace id (a UUID), new on every answer; a problem's `instance` is "
        "`urn:uuid:` and this id. Quote it when reporting a problem.",
        "schema": {"type": "string", "format": "uuid"},
    },
    "BelGovRelatedTraceId": {
        "description": "The caller's `BelGov-Trace-Id`, when it sent an acceptable one.",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": "The version of the resource: send it back as `If-Match` to change it.",
        "schema": {"type": "string"},
        "example": '"2"',
    },
    "Location": {
        "description": "The URL of the resource this call created.",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "Link": {
        "description": 'The next page, `<…>; rel="next"`, in a CSV answer (the JSON one has `next`).',
        "schema": {"type": "string"},
    },
    "IdempotentReplayed": {
        "description": "`true` when this answer replays an earlier call made with the same `Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "WWWAuthenticate": {
        "description": '`Bearer`, with `error="invalid_token"` for an invalid or expired token.',
        "schema": {"type": "string"},
    },
}
"""The response headers, by component name."""

_HEADER_NAMES = {
    "BelGovTraceId": TRACE_HEADER,
    "BelGovRelatedTraceId": RELATED_TRACE_HEADER,
    "ETag": contract.ETAG,
    "Location": contract.LOCATION,
    "Link": contract.LINK,
    "IdempotentReplayed": REPLAYED,
    "WWWAuthenticate": "WWW-Authenticate",
}
_COMPONENT_OF_HEADER = {header: name for name, header in _HEADER_NAMES.items()}

DEFAULT_DESCRIPTION = (
    "Any other error: a problem (`application/problem+json`, RFC 9457) with a Belgif type (`urn:problem-type:…`), "
    "its `instance` the call's `BelGov-Trace-Id`. Never a stack trace, an SSIN or health data."
)

# --------------------------------------------------------------------------------------------- what each actor sees
_VIEWS: dict[str, str] = {
    "DossierOut": "dossier.",
    "RegistrationFormOut": "form",
    "RegistrationFormList": "form",
    "RequestOut": "request",
}
"""The answers that are a view of a dossier, a form or a request (by schema name), and the visibility table's blocks
they show (the prefix of the blocks' names)."""


ACCESS_TO_A_PERSON = """
## Access to a person

A call that names a person (by SSIN in a body, or by a dossier, form, request, consent or conversation of theirs) is
answered only to an organisation that an authentic source links to that person at the time of the call: the
person's insurer (MemberData), a regional service where the person is registered (JobSeeker), the external
prevention service of one of the person's employers (Dimona, then SEED-Connect) — and INAMI. Any other organisation
gets 404 `resourceNotFound` (404 before 403: an answer never tells whether something exists that the caller may not
see), and so does everyone but INAMI for a deceased person. An SSIN the National Register replaced is followed for
an organisation linked to the person under the new one (the call is about the new SSIN, and the dossier follows the
person); anyone else gets 404. A role that may not do what the call asks gets 403 `missingPermission`. A source the
decision needs that does not answer is 503 `serviceUnavailable`, one that answers something unusable 502
`badGateway`: access is denied, never guessed. Lists re-check every line's person the same way: a line the caller may
no longer see is left out. Every call, refusals included, is recorded in the person's audit log.

Each operation says who may call it and, for a dossier, a form or a request, what each actor sees: the fields a role
may not see are absent from the answer (the visibility table of deliberation 26/060).
"""


def build(app: FastAPI) -> dict[str, Any]:
    used_tags = {tag for route in _api_routes(app) for tag in route.tags}
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=(app.description or "") + ACCESS_TO_A_PERSON,
        routes=app.routes,
        tags=[tag for tag in TAGS if tag["name"] in used_tags],
        servers=SERVERS,
        contact=CONTACT,
        license_info=LICENSE,
    )
    for route in _api_routes(app):
        facts = contract.reach(route)
        for method in sorted(route.methods or ()):
            operation = document["paths"][route.path_format][method.lower()]
            _complete(operation, route, facts)
    components = document.setdefault("components", {})
    schemas = components.get("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    for schema in schemas.values():
        # A named enumeration (OrganisationType, Role...) is exemplified by its own values.
        if "enum" in schema and "examples" not in schema:
            schema["examples"] = list(schema["enum"])
        _strip_titles(schema)
    components["parameters"] = copy.deepcopy(PARAMETERS)
    components["headers"] = copy.deepcopy(HEADERS)
    components["examples"] = _examples_used(document)
    return document


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """The API routes of the document, each with the context of the router that mounts it (its dependencies)."""
    for route in routing.iter_route_contexts(app.routes):
        if isinstance(route.original_route, routing.APIRoute) and route.include_in_schema:
            yield route


def _complete(operation: dict[str, Any], route: Any, facts: contract.Reach) -> None:
    from rp_api.routers import ApiRoute

    reads = facts.request_headers
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    for parameter in parameters:
        _strip_titles(parameter.get("schema", {}))
    for header in [contract.IF_MATCH, IDEMPOTENCY_KEY, contract.ACCEPT_LANGUAGE]:
        if header in reads:
            parameters.append({"$ref": f"#/components/parameters/{_PARAMETER_OF_HEADER[header]}"})
    parameters.append({"$ref": "#/components/parameters/BelGovTraceId"})
    for content in operation.get("requestBody", {}).get("content", {}).values():
        _strip_titles(content.get("schema", {}))

    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)  # FastAPI's validation error: API RP answers 400 badRequest
    needed: dict[str, str] = {}
    if isinstance(route.original_route, ApiRoute):
        needed["400"] = "The input is not valid (`badRequest`): see `issues`. An unknown query parameter is one."
    if operation.get("requestBody"):
        needed["413"] = "The body is larger than the service accepts (`payloadTooLarge`)."
        needed["415"] = "The body is not JSON (`application/json`, or a `+json` type)."
    if contract.IF_MATCH in reads:
        needed["412"] = "The resource changed since the caller read it (`If-Match`): read it again."
        needed["428"] = "`If-Match` with the resource's `ETag` is required."
    if IDEMPOTENCY_KEY in reads:
        needed["422"] = "This `Idempotency-Key` was used for another request (`…rp:idempotencyKeyReused`)."
    for problem in (contract.sample(cls) for cls in facts.problems):
        needed.setdefault(str(problem.status), f"`{problem.type}`: {problem.title}.")
    for status, description in needed.items():
        responses.setdefault(status, {"description": description, "content": {PROBLEM_MEDIA_TYPE: {}}})
    responses["default"] = {"description": DEFAULT_DESCRIPTION, "content": {PROBLEM_MEDIA_TYPE: {}}}
    for status, response in responses.items():
        _complete_response(status, response, facts)
    operation["responses"] = dict(sorted(responses.items(), key=lambda item: (item[0] == "default", item[0])))
    operation["description"] = _description(operation, route)


def _complete_response(status: str, response: dict[str, Any], facts: contract.Reach) -> None:
    content: dict[str, Any] = response.get("content", {})
    if PROBLEM_MEDIA_TYPE in content:
        # A problem answer carries only the problem media type (not application/json too), with its own examples.
        content.pop("application/json", None)
        content[PROBLEM_MEDIA_TYPE] = {"schema": dict(_PROBLEM_SCHEMA), "examples": _problem_examples(status, facts)}
    for media in content.values():
        _strip_titles(media.get("schema", {}))
    headers = [TRACE_HEADER, RELATED_TRACE_HEADER]
    if status == "401":
        headers.append("WWW-Authenticate")
    if status.startswith("2"):
        headers += [h for h in (contract.ETAG, REPLAYED) if h in facts.response_headers]
        if status == "201" and contract.LOCATION in facts.response_headers:
            headers.append(contract.LOCATION)
        if status == "200" and contract.LINK in facts.response_headers:
            headers.append(contract.LINK)
    response["headers"] = {
        header: {"$ref": f"#/components/headers/{_COMPONENT_OF_HEADER[header]}"} for header in headers
    } | response.get("headers", {})


def _problem_examples(status: str, facts: contract.Reach) -> dict[str, Any]:
    if status == "default":
        chosen = [contract.sample(cls) for cls in contract.GENERIC[500]]
    else:
        chosen = contract.problems_for(int(status), facts.problems)
    if not chosen:  # a status no problem class names: the generic one of its class (4xx, 5xx)
        chosen = [contract.sample(contract.GENERIC[400 if status.startswith("4") else 500][0])]
    return {
        contract.example_name(problem): {"$ref": f"#/components/examples/{contract.example_name(problem)}"}
        for problem in chosen
    }


def _examples_used(document: dict[str, Any]) -> dict[str, Any]:
    """The problem examples the operations refer to, as components (each written once)."""
    every = [contract.sample(cls) for cls in _problem_classes()]
    by_name = {contract.example_name(problem): contract.example(problem) for problem in every}
    used: set[str] = set()
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for response in operation.get("responses", {}).values():
                used.update(response.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("examples", {}))
    return {name: by_name[name] for name in sorted(used)}


def _problem_classes() -> list[type[problems.Problem]]:
    """Every problem class of :mod:`rp_api.problems` (but the base classes that are not answered as such)."""
    found: list[type[problems.Problem]] = []
    pending: list[type[problems.Problem]] = [problems.Problem]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls not in (problems.Problem, problems.RpProblem):
            found.append(cls)
    return found


# ----------------------------------------------------------------------------------------------------- descriptions
def _dependency_calls(route: Any) -> set[Any]:
    found: set[Any] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if dependant.call is not None:
            found.add(dependant.call)
        pending.extend(dependant.dependencies)
    return found


_LIST_GUARD = typing.get_args(GuardedList)[1].dependency


def who_may_call(route: Any) -> str:
    """Who may call the operation, from its dependencies: the token, the roles, the person it names or lists."""
    calls = _dependency_calls(route)
    if authenticate_working_role in calls:
        if route.operation_id in LISTS:
            lists_only = (
                "a list manager's token reads this list (26/060 §48), its lines as its organisation's reference "
                "advisor reads them"
            )
        else:
            lists_only = "a token holding only `listManager` reads its lists and nothing else (403, 26/060 §48)"
        text = (
            "A bearer token of one of API RP's identity providers for an organisation API RP knows, holding a "
            "working role of its organisation type (else 401 or 403): a token holding only `auditor` gets 403 "
            f"`missingPermission`; {lists_only}."
        )
    elif authenticate in calls:
        text = "Any bearer token of one of API RP's identity providers for an organisation API RP knows, auditors' too."
    else:
        return "Anyone: no token is needed."
    if any(getattr(call, PERSON_NAMED, False) for call in calls):
        text += (
            " The call names a person: it is answered only to an organisation linked to that person now, and to "
            "INAMI; any other gets 404 `resourceNotFound` (404 before 403); it is recorded in the person's audit log "
            "(see *Access to a person* in the API's description)."
        )
    elif _LIST_GUARD in calls:
        text += (
            " Each line names a person: it is listed only while the caller's organisation is linked to that person "
            "(re-checked for every page), every person of a page is recorded in its audit log, and a source failing "
            "for one line refuses the page (503, or 502; see *Access to a person* in the API's description)."
        )
    return text


def what_each_actor_sees(prefix: str) -> str:
    """For each organisation type, the blocks of the view its working roles read, from the visibility table."""
    blocks = [block for block in Block if block.value.startswith(prefix)]
    lines = []
    for organisation_type, roles in ROLES_BY_TYPE.items():
        working = sorted((r for r in roles if r not in (Role.AUDITOR, Role.LIST_MANAGER)), key=lambda r: r.value)
        seen: list[str] = []
        never: list[str] = []
        for block in blocks:
            levels = {role: READ[organisation_type, role, block].level for role in working}
            readers = [role.value for role in working if levels[role] is not Read.NO]
            if not readers:
                never.append(f"`{block.value}`")
                continue
            scope = {level for level in levels.values() if level is not Read.NO}
            text = f"`{block.value}`"
            if Read.OWN_LINK in scope:
                text += " (its own link only)"
            elif Read.TAKEN_PART in scope:
                text += " (only what it took part in)"
            if len(readers) < len(working):
                text += f" ({', '.join(readers)} only)"
            seen.append(text)
        line = f"- {TYPE_NAMES[organisation_type]}: " + (", ".join(seen) if seen else "nothing")
        if never:
            line += "; never " + ", ".join(never)
        lines.append(line + ".")
    return (
        "What each actor sees (the visibility table, deliberation 26/060; a block the caller may not see is absent "
        "from the answer):\n" + "\n".join(lines)
    )


def _description(operation: dict[str, Any], route: Any) -> str:
    parts = [operation.get("description") or operation.get("summary") or ""]
    parts.append("**Who may call it.** " + who_may_call(route))
    schema_name = _success_schema(operation)
    if schema_name in _VIEWS:
        parts.append(what_each_actor_sees(_VIEWS[schema_name]))
    return "\n\n".join(part.strip() for part in parts if part.strip())


def _success_schema(operation: dict[str, Any]) -> str | None:
    for status in ("200", "201"):
        schema = (
            operation.get("responses", {})
            .get(status, {})
            .get("content", {})
            .get("application/json", {})
            .get("schema", {})
        )
        reference = schema.get("$ref", "")
        if reference:
            return str(reference).rsplit("/", 1)[-1]
    return None


# ----------------------------------------------------------------------------------------------------------- titles
_DATA_KEYWORDS = frozenset({"examples", "example", "default", "const", "enum"})
"""Where a schema holds data rather than schemas: a ``title`` there is a value (a problem's title)."""


def _strip_titles(schema: Any) -> None:
    """Remove the ``title`` keyword from a schema and the schemas inside it (a property named ``title`` stays)."""
    if isinstance(schema, list):
        for item in schema:
            _strip_titles(item)
        return
    if not isinstance(schema, dict):
        return
    if isinstance(schema.get("title"), str):
        del schema["title"]
    for key, value in schema.items():
        if key in _DATA_KEYWORDS:
            continue
        if key == "properties" and isinstance(value, dict):
            for property_schema in value.values():
                _strip_titles(property_schema)
        else:
            _strip_titles(value)


# ------------------------------------------------------------------------------------------------------ installation
def install(app: FastAPI) -> None:
    def cached_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = cached_openapi  # type: ignore[method-assign]
    served: dict[str, bytes] = {}

    async def openapi_yaml(request: Request) -> Response:
        """The same document as ``/openapi.json``, in YAML (Belgif: ``<base path>/doc/openapi.yaml``); public."""
        if "yaml" not in served:
            served["yaml"] = to_yaml(app.openapi()).encode()
        return Response(served["yaml"], media_type=YAML_MEDIA_TYPE)

    app.add_route(YAML_PATH, openapi_yaml, methods=["GET"], include_in_schema=False)


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so descriptions read as written; no anchors (``&id001``)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_NOT_A_STRING_IN_YAML_1_2 = re.compile(r"[-+]?(\.?[0-9][0-9_]*)(\.[0-9_]*)?([eE][-+]?[0-9]+)?|0[xo][0-9a-fA-F]+")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style: str | None = "|" if "\n" in value else None
    if style is None and _NOT_A_STRING_IN_YAML_1_2.fullmatch(value):
        # PyYAML (YAML 1.1) writes 0411159046 bare, which a YAML 1.2 reader (Spectral, most tools) reads as a number.
        style = "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def to_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
