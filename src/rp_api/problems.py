"""Problems: every error of API RP is an ``application/problem+json`` document (RFC 9457, Belgif problem types).

One base class, :class:`Problem`, carries its type, title and status; raising one anywhere ends the request
with that answer. :func:`render` is the only place that turns a problem into a response. No problem carries a
stack trace, SQL, a host name, an SSIN or health data: the detail is written by us, never copied from an
exception.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, Literal

from starlette.responses import JSONResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"
_BELGIF_DOCS = "https://www.belgif.be/specification/rest/api-guide/problems/"
_BELGIF_ISSUE_DOCS = "https://www.belgif.be/specification/rest/api-guide/issues/"

IssueLocation = Literal["body", "path", "query", "header"]


ECHOED_LOCATIONS: frozenset[IssueLocation] = frozenset({"path", "query", "header"})
"""Where an issue may repeat the value it refuses. Never the body: bodies carry SSINs and health data."""


@dataclass(frozen=True)
class InputIssue:
    """One reason why the input was refused (``issues[]`` of a Belgif ``badRequest``).

    ``value`` (with ``has_value``) is for a path, query or header parameter only: an issue about the body, or about
    no particular location, refuses to carry one (ValueError), so that no code can echo a body value.
    """

    type: str
    title: str
    detail: str | None = None
    in_: IssueLocation | None = None
    name: str | None = None
    value: Any = None
    has_value: bool = False

    def __post_init__(self) -> None:
        if (self.has_value or self.value is not None) and self.in_ not in ECHOED_LOCATIONS:
            raise ValueError(f"an issue in {self.in_ or 'no location'} never carries the value it refuses")

    def as_json(self) -> dict[str, Any]:
        short = self.type.rsplit(":", 1)[-1]
        body: dict[str, Any] = {"type": self.type, "href": f"{_BELGIF_ISSUE_DOCS}{short}.html", "title": self.title}
        if self.detail:
            body["detail"] = self.detail
        if self.in_:
            body["in"] = self.in_
        if self.name is not None:
            body["name"] = self.name
        if self.has_value and self.in_ in ECHOED_LOCATIONS:
            body["value"] = self.value
        return body


SCHEMA_VIOLATION = "urn:problem-type:belgif:input-validation:schemaViolation"
UNKNOWN_INPUT = "urn:problem-type:belgif:input-validation:unknownInput"
INVALID_STRUCTURE = "urn:problem-type:belgif:input-validation:invalidStructure"
INVALID_INPUT = "urn:problem-type:belgif:input-validation:invalidInput"


class Problem(Exception):  # noqa: N818 - a problem is the domain's name for it (RFC 9457)
    """Base of every error answer. Subclasses fix ``type``, ``title`` and ``status``."""

    type: str = "urn:problem-type:belgif:internalServerError"
    title: str = "Internal Server Error"
    status: int = 500
    default_detail: ClassVar[str | None] = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail if detail is not None else self.default_detail
        self.headers: dict[str, str] = dict(headers or {})
        self.extensions: dict[str, Any] = dict(extensions or {})
        super().__init__(self.detail or self.title)

    @property
    def href(self) -> str | None:
        prefix = "urn:problem-type:belgif:"
        if self.type.startswith(prefix) and ":" not in self.type[len(prefix) :]:
            return f"{_BELGIF_DOCS}{self.type[len(prefix) :]}.html"
        return None

    def as_json(self, trace_id: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type}
        if self.href:
            body["href"] = self.href
        body["title"] = self.title
        body["status"] = self.status
        if self.detail:
            body["detail"] = self.detail
        if trace_id:
            body["instance"] = f"urn:uuid:{trace_id}"
        body.update(self.extensions)
        return body


class BadRequest(Problem):
    type = "urn:problem-type:belgif:badRequest"
    title = "Bad Request"
    status = 400
    default_detail = "The input message is incorrect"

    def __init__(self, issues: Sequence[InputIssue], detail: str | None = None) -> None:
        super().__init__(detail, extensions={"issues": [issue.as_json() for issue in issues]})
        self.issues = tuple(issues)


class ResourceNotFound(Problem):
    type = "urn:problem-type:belgif:resourceNotFound"
    title = "Resource Not Found"
    status = 404
    default_detail = "The requested resource cannot be found"


class MethodNotAllowed(Problem):
    type = "about:blank"
    title = "Method Not Allowed"
    status = 405

    def __init__(self, allowed: str) -> None:
        super().__init__(f"Allowed methods: {allowed}", headers={"Allow": allowed})


class UnsupportedMediaType(Problem):
    type = "about:blank"
    title = "Unsupported Media Type"
    status = 415
    default_detail = "The request body must be application/json"


class PayloadTooLarge(Problem):
    type = "urn:problem-type:belgif:payloadTooLarge"
    title = "Payload Too Large"
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes", extensions={"limit": limit})


class HttpStatusProblem(Problem):
    """Any other HTTP error status raised by the framework, as an ``about:blank`` problem."""

    type = "about:blank"

    def __init__(self, status: int) -> None:
        self.status = status
        try:
            self.title = HTTPStatus(status).phrase
        except ValueError:
            self.title = f"HTTP {status}"
        super().__init__()


class InternalServerError(Problem):
    default_detail = "An unexpected error occurred; quote the instance when you report it"


class ServiceUnavailable(Problem):
    type = "urn:problem-type:belgif:serviceUnavailable"
    title = "Service Unavailable"
    status = 503
    default_detail = "The service is temporarily unavailable"


def render(problem: Problem, trace_id: str | None) -> JSONResponse:
    """The one place where a problem becomes an HTTP answer."""
    return JSONResponse(
        problem.as_json(trace_id),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


_BEARER = {"WWW-Authenticate": "Bearer"}
_BEARER_INVALID = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class NoAccessToken(Problem):
    type = "urn:problem-type:belgif:noAccessToken"
    title = "No Access Token"
    status = 401
    default_detail = "No Bearer access token found in Authorization HTTP header"

    def __init__(self) -> None:
        super().__init__(headers=_BEARER)


class InvalidAccessToken(Problem):
    type = "urn:problem-type:belgif:invalidAccessToken"
    title = "Invalid Access Token"
    status = 401
    default_detail = "The Bearer access token found in the Authorization HTTP header is invalid"

    def __init__(self) -> None:
        super().__init__(headers=_BEARER_INVALID)


class ExpiredAccessToken(Problem):
    type = "urn:problem-type:belgif:expiredAccessToken"
    title = "Expired Access Token"
    status = 401
    default_detail = "The Bearer access token found in the Authorization HTTP header has expired"

    def __init__(self) -> None:
        super().__init__(headers=_BEARER_INVALID)


class MissingPermission(Problem):
    type = "urn:problem-type:belgif:missingPermission"
    title = "Missing Permission"
    status = 403
    default_detail = "Permission missing to execute the operation"


class BadGateway(Problem):
    type = "urn:problem-type:belgif:badGateway"
    title = "Bad Gateway"
    status = 502
    default_detail = "An authentic source answered something that cannot be used; access is denied"


class RpProblem(Problem):
    """API RP's own problem types, ``urn:problem-type:rp:<name>``, titled in the caller's language."""

    name = "transitionNotAllowed"

    def __init__(self, detail: str | None = None, *, lang: str = "en", status: int = 409) -> None:
        from rp_api.i18n import title

        self.type = f"urn:problem-type:rp:{self.name}"
        self.title = title(self.name, lang)
        self.status = status
        super().__init__(detail)


class TransitionNotAllowed(RpProblem):
    name = "transitionNotAllowed"


class FormNotDraft(RpProblem):
    name = "formNotDraft"


class PreconditionFailed(RpProblem):
    name = "precondition"

    def __init__(self, *, lang: str = "en") -> None:
        super().__init__(lang=lang, status=412)


class PreconditionRequired(RpProblem):
    name = "preconditionRequired"

    def __init__(self, *, lang: str = "en") -> None:
        super().__init__(lang=lang, status=428)


class IdempotencyKeyReused(RpProblem):
    name = "idempotencyKeyReused"

    def __init__(self, *, lang: str = "en") -> None:
        super().__init__(lang=lang, status=422)


class RegistrationFormNotValid(RpProblem):
    name = "registrationFormNotValid"


class ConsentRequired(RpProblem):
    """What needs the person's consent (deliberation 26/060 §63: the occupational physician's contact with the
    employment partner) is refused until a consent of its ``scope`` is in force on the dossier (409: the caller's
    roles allow it, the dossier's state does not yet; recording the consent makes the same call succeed)."""

    name = "consentRequired"

    def __init__(self, scope: str, *, lang: str = "en") -> None:
        super().__init__(
            "No consent of this scope is in force on the dossier: record the person's consent form first "
            "(POST /rp/v1/dossiers/{dossierId}/consents)",
            lang=lang,
        )
        self.extensions["scope"] = scope


class ItemsRefused(RpProblem):
    """A batch item cannot be applied in the current state of what it names (nothing of the batch is applied)."""

    name = "batchItemRefused"

    def __init__(self, items: list[dict[str, Any]], *, lang: str = "en") -> None:
        super().__init__("No item of the batch was applied", lang=lang)
        self.extensions["items"] = items
