"""Opaque keyset cursors (``next`` of a page, positions of the feed): the sort key of the last item, encoded.

A cursor that does not decode into the expected parts is a 400 ``badRequest`` naming the parameter; it never
reaches a query.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rp_api.problems import INVALID_INPUT, BadRequest, InputIssue, IssueLocation

Part = Callable[[Any], Any]
"""Turns one decoded JSON value back into a key part: ``datetime.fromisoformat``, ``uuid.UUID``, ``int``."""


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def encode(*parts: Any) -> str:
    raw = json.dumps([_json(part) for part in parts], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, *parts: Part, where: IssueLocation, name: str) -> tuple[Any, ...]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(parts):
            raise ValueError("wrong number of parts")
        return tuple(part(value) for part, value in zip(parts, values, strict=True))
    except (ValueError, TypeError, UnicodeDecodeError):
        issue = InputIssue(INVALID_INPUT, "Invalid cursor", "use the value the previous page gave", where, name)
        raise BadRequest([issue]) from None
