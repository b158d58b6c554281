"""Optimistic concurrency over HTTP: ``ETag`` on what can change, ``If-Match`` required to change it
(428 when missing, 412 when stale)."""

from __future__ import annotations

from fastapi import Request

from rp_api.i18n import language
from rp_api.problems import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def require_if_match(request: Request, version: int) -> None:
    lang = language(request.headers.get("accept-language"))
    header = request.headers.get("if-match")
    if header is None:
        raise PreconditionRequired(lang=lang)
    candidates = [candidate.strip() for candidate in header.split(",")]
    if "*" not in candidates and etag(version) not in candidates:
        raise PreconditionFailed(lang=lang)
