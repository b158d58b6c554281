"""Opaque keyset cursors (``next`` of a page, positions of the feed): the sort key of the last item, encoded.

A cursor that does not decode into the expected parts is a 400 ``badRequest`` naming the parameter; it never
reaches a query. A cursor is only ever made by :func:`encode`, so anything :func:`encode` could not have written
is refused, whatever it decodes to: a part of the wrong JSON type (``int`` takes a JSON integer, every other part a
JSON string), an integer that is negative or beyond a signed 64-bit one (every integer of a sort key is a
position, a sequence number or a transaction id), a date-time without its offset or outside the calendar years the
service computes with (:data:`rp_api.identifiers.FIRST_YEAR` to :data:`rp_api.identifiers.LAST_YEAR`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rp_api.identifiers import within_calendar
from rp_api.problems import INVALID_INPUT, BadRequest, InputIssue, IssueLocation

Part = Callable[[Any], Any]
"""Turns one decoded JSON value back into a key part: ``datetime.fromisoformat``, ``uuid.UUID``, ``int``."""

INT64_MAX = 2**63 - 1


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def encode(*parts: Any) -> str:
    raw = json.dumps([_json(part) for part in parts], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid(where: IssueLocation, name: str) -> BadRequest:
    """The answer to a cursor that is not one of ours (for a call site's own further checks too)."""
    issue = InputIssue(INVALID_INPUT, "Invalid cursor", "use the value the previous page gave", where, name)
    return BadRequest([issue])


def _part(part: Part, value: Any) -> Any:
    expected: type = int if part is int else str
    if type(value) is not expected:  # not isinstance: a JSON true is an int to Python
        raise ValueError("wrong JSON type")
    produced = part(value)
    if isinstance(produced, bool | float):
        raise ValueError("not a key part")
    if isinstance(produced, int) and not 0 <= produced <= INT64_MAX:
        raise ValueError("integer out of range")
    if isinstance(produced, datetime) and produced.utcoffset() is None:
        raise ValueError("date-time without offset")
    if isinstance(produced, date) and not within_calendar(produced):
        raise ValueError("date out of range")
    return produced


def decode(cursor: str, *parts: Part, where: IssueLocation, name: str) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError):
        raise invalid(where, name) from None
    return _parsed(raw, parts, where=where, name=name)


def _parsed(raw: bytes, parts: tuple[Part, ...], *, where: IssueLocation, name: str) -> tuple[Any, ...]:
    try:
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(parts):
            raise ValueError("wrong number of parts")
        return tuple(_part(part, value) for part, value in zip(parts, values, strict=True))
    except (ValueError, TypeError, OverflowError, AttributeError, RecursionError):
        # UnicodeDecodeError and binascii.Error are ValueErrors; OverflowError and AttributeError come from a part
        # given what it cannot take.
        raise invalid(where, name) from None


# --- sealed cursors: the pages of lists whose lines are re-checked -------------------------------------------------
# A list page's ``next`` is built from its last row, which may be a line the caller may no longer see (left out of the
# page). Sealed (AES-GCM), the cursor tells nothing of that row, and it opens only for the list and the organisation
# it was issued to (the associated data): a cursor of another list, another organisation, or made by hand is a 400.
# The key is derived from the current audit MAC key (shared by every replica, kept outside the database): rotating
# that key ends the cursors issued before, which a client meets as a 400 and answers by starting the list again.
# Feed positions are not sealed: a consumer keeps them for good, and they name a transaction, no person.

_SEAL_LABEL = b"rp-api list cursors v1"
_NONCE = 12
_sealer: list[AESGCM] = []


def configure(secret: bytes) -> None:
    """The key of this process's sealed cursors, derived from ``secret`` (the service: its current audit key)."""
    _sealer[:] = [AESGCM(hmac.digest(secret, _SEAL_LABEL, hashlib.sha256))]


def _aead() -> AESGCM:
    if not _sealer:  # a process that configured none (a script): cursors good for this process only
        configure(os.urandom(32))
    return _sealer[0]


def scope(operation: str, organisation: str) -> str:
    """What a sealed cursor is bound to: one list (its operationId) of one organisation."""
    return f"{operation}/{organisation}"


def seal(*parts: Any, scope: str) -> str:
    """``scope``: the list and the organisation (e.g. ``queryRequests/0123456749``)."""
    return seal_bytes(json.dumps([_json(part) for part in parts], separators=(",", ":")).encode(), scope=scope)


def seal_bytes(plain: bytes, *, scope: str) -> str:
    """The sealed cursor of a plain one's bytes (what :func:`encode` would give, unsealed)."""
    nonce = os.urandom(_NONCE)
    sealed = nonce + _aead().encrypt(nonce, plain, scope.encode())
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def unseal(cursor: str, *parts: Part, scope: str, where: IssueLocation, name: str) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(raw) <= _NONCE + 16:
            raise ValueError("too short")
        plain = _aead().decrypt(raw[:_NONCE], raw[_NONCE:], scope.encode())
    except (ValueError, TypeError, InvalidTag):
        raise invalid(where, name) from None
    return _parsed(plain, parts, where=where, name=name)
