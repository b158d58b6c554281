"""The audit log's integrity, as pure computation (no I/O): canonical JSON, keyed MACs, chain links, checkpoints.

Each record is linked twice:

- its **MAC**: HMAC-SHA256, under a key the database never holds, of the record's *content* — its canonical JSON
  without the two values only the database knows (chain id and seq): compact, sorted keys, UTF-8, UTC time to the
  microsecond; members ``id``, ``keyId``, ``legalBasis``, ``occurredAt``, ``operation``, ``organisation``,
  ``organisationType``, ``outcome``, ``personSsin``, ``reason``, ``resourceId``, ``resourceType``, ``roles``,
  ``status`` (when known), ``traceId``, ``userSsin``. The application computes it before it sends the record, with
  the time it stamps on it (the database refuses a time that is not its own clock's, within a few seconds).
- its **link**: SHA-256 of the previous record's link, the record's canonical JSON *with* ``chainId`` and ``seq``,
  and its MAC. The database computes it when it appends the record under the chain head's lock
  (``rp_audit_append``), from the canonical JSON the application sends cut around chain id and seq
  (:class:`Canonical`).

Whoever can write the tables can recompute links, never a MAC: a changed record no longer matches its MAC.
Whoever can write the tables can also re-chain records or remove the last ones without touching a MAC: signed
**checkpoints** of every chain's head, kept outside the database (:class:`Checkpoint`), catch that.

Records written before keys existed (*legacy*: no key id, no MAC) are linked as they always were, SHA-256 of the
previous link and their canonical JSON (without ``keyId``); they verify by their chain alone, and only up to the
seq at which their chain was keyed (``legacyUntil``, in every checkpoint).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rp_api.domain.audit import AuditRecord

GENESIS_HASH = bytes(32)
"""The link before every chain's first record."""
MAC_BYTES = 32
KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
"""What a key id may be: it is stored with every record (``audit_event.key_id``)."""
MIN_KEY_BYTES = 32


def timestamp(moment: datetime) -> str:
    """A record's time in its canonical JSON: UTC, to the microsecond."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _members(values: dict[str, object]) -> str:
    return orjson.dumps(values, option=orjson.OPT_SORT_KEYS).decode()[1:-1]


@dataclass(frozen=True)
class Canonical:
    """A record's canonical JSON: its content (what the MAC covers), and the same cut around the chain id and seq
    that the database puts in when it links the record: ``{"chainId":`` chain ``after_chain`` seq ``after_seq``."""

    content: bytes
    after_chain: str
    after_seq: str

    def linked(self, *, chain_id: int, seq: int) -> bytes:
        return f'{{"chainId":{chain_id}{self.after_chain}{seq}{self.after_seq}'.encode()


def canonical(record: AuditRecord, *, occurred_at: datetime | str, key_id: str | None) -> Canonical:
    """The record's canonical JSON at ``occurred_at`` (the time it is appended at, or already as :func:`timestamp`
    writes it), under ``key_id`` (None: a legacy record, whose JSON has no ``keyId``). Members before ``seq`` in key
    order, then those after it."""
    before_seq: dict[str, object] = {
        "id": str(record.id),
        "legalBasis": record.legal_basis,
        "occurredAt": occurred_at if isinstance(occurred_at, str) else timestamp(occurred_at),
        "operation": record.operation,
        "organisation": record.organisation,
        "organisationType": record.organisation_type,
        "outcome": record.outcome,
        "personSsin": record.person_ssin,
        "reason": record.reason,
        "resourceId": record.resource_id,
        "resourceType": record.resource_type,
        "roles": sorted(record.roles),
    }
    if key_id is not None:
        before_seq["keyId"] = key_id
    after_seq: dict[str, object] = {"traceId": record.trace_id, "userSsin": record.user_ssin}
    if record.status is not None:  # records written before the status was recorded have none
        after_seq["status"] = record.status
    first, second = _members(before_seq), _members(after_seq)
    return Canonical(f"{{{first},{second}}}".encode(), f',{first},"seq":', f",{second}}}")


def mac(key: bytes, content: bytes) -> bytes:
    """HMAC-SHA256 of a record's content."""
    return hmac.digest(key, content, "sha256")


def link(previous: bytes, linked: bytes, record_mac: bytes | None) -> bytes:
    """SHA-256 of the previous link, the record's canonical JSON with chain id and seq, and its MAC (none for a
    legacy record)."""
    return hashlib.sha256(previous + linked + (record_mac or b"")).digest()


def chain_hash(previous: bytes, record: AuditRecord, *, chain_id: int, seq: int) -> bytes:
    """The link of a legacy record (no key): SHA-256 of the previous link and its canonical JSON."""
    linked = canonical(record, occurred_at=record.occurred_at, key_id=None).linked(chain_id=chain_id, seq=seq)
    return link(previous, linked, None)


# --- keys ------------------------------------------------------------------------------------------------------
class KeyringError(ValueError):
    """An audit key file that cannot be used (the message names the line, never a key)."""


@dataclass(frozen=True)
class Keyring:
    """The audit MAC keys: the current one signs new records; every one verifies the records made under it.

    Text form (``RP_AUDIT_KEY_FILE``): one key a line, ``<key id> <key in base64>``, the current key first; blank
    lines and ``#`` comments ignored. Rotating = putting a new line first and keeping the others."""

    current_id: str
    keys: Mapping[str, bytes] = field(repr=False)
    _macs: dict[str, hmac.HMAC] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]

    def get(self, key_id: str) -> bytes | None:
        return self.keys.get(key_id)

    def mac(self, key_id: str, content: bytes) -> bytes:
        """:func:`mac` under the key ``key_id``, from a keyed context made once per key: ~1 µs where
        ``hmac.digest`` looks the digest up in OpenSSL at each call (~10 µs in the service, its caches cold)."""
        keyed = self._macs.get(key_id)
        if keyed is None:
            keyed = self._macs[key_id] = hmac.new(self.keys[key_id], digestmod=hashlib.sha256)
        one = keyed.copy()
        one.update(content)
        return one.digest()

    @classmethod
    def parse(cls, text: str) -> Keyring:
        keys: dict[str, bytes] = {}
        first: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 2 or not KEY_ID.match(parts[0]):
                raise KeyringError(f"line {number}: expected '<key id> <base64 key>', key id of [A-Za-z0-9._-]")
            try:
                key = base64.b64decode(parts[1], validate=True)
            except ValueError:
                raise KeyringError(f"line {number}: the key is not base64") from None
            if len(key) < MIN_KEY_BYTES:
                raise KeyringError(f"line {number}: the key has {len(key)} bytes, at least {MIN_KEY_BYTES} needed")
            if parts[0] in keys:
                raise KeyringError(f"line {number}: key id {parts[0]} appears twice")
            keys[parts[0]] = key
            first = first or parts[0]
        if first is None:
            raise KeyringError("no key")
        return cls(first, keys)

    @staticmethod
    def new_line(key_id: str) -> str:
        """A new key's line (32 random bytes)."""
        if not KEY_ID.match(key_id):
            raise KeyringError("a key id is 1 to 32 of [A-Za-z0-9._-]")
        return f"{key_id} {base64.b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode('ascii')}"


# --- checkpoints -----------------------------------------------------------------------------------------------
def signing_key_id(public_key: Ed25519PublicKey) -> str:
    """``ed25519:`` and the first 16 hex digits of the SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


class CheckpointError(ValueError):
    """A checkpoint line that is not well formed, or whose signature does not verify."""


@dataclass(frozen=True)
class Head:
    """A chain's head as a checkpoint saw it: its last seq and link, and the last seq of its legacy records."""

    chain_id: int
    seq: int
    hash: bytes
    legacy_until: int


@dataclass(frozen=True)
class Checkpoint:
    """The heads of every chain at one moment, signed (Ed25519) outside the database.

    A line (checkpoint file, and the structured log line ``audit_checkpoint``) is a JSON object with
    ``auditCheckpoint`` (``{"at", "database", "heads": [{"chainId", "seq", "hash", "legacyUntil"}]}``), ``kid``
    (the signing key's id) and ``signature`` (base64 of the Ed25519 signature of the canonical JSON of
    ``auditCheckpoint``). ``database`` is the name of the database whose heads these are."""

    at: datetime
    database: str
    heads: tuple[Head, ...]

    def payload(self) -> dict[str, Any]:
        return {
            "at": timestamp(self.at),
            "database": self.database,
            "heads": [
                {"chainId": h.chain_id, "hash": h.hash.hex(), "legacyUntil": h.legacy_until, "seq": h.seq}
                for h in sorted(self.heads, key=lambda h: h.chain_id)
            ],
        }

    def signed(self, key: Ed25519PrivateKey) -> dict[str, Any]:
        payload = self.payload()
        signature = key.sign(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS))
        return {
            "auditCheckpoint": payload,
            "kid": signing_key_id(key.public_key()),
            "signature": base64.b64encode(signature).decode("ascii"),
        }

    @classmethod
    def from_signed(cls, line: Mapping[str, Any], public_keys: Mapping[str, Ed25519PublicKey]) -> Checkpoint:
        """The checkpoint of a signed line; raises :class:`CheckpointError` unless its signature verifies under one
        of ``public_keys`` (by key id)."""
        payload, kid, signature = line.get("auditCheckpoint"), line.get("kid"), line.get("signature")
        if not isinstance(payload, dict) or not isinstance(kid, str) or not isinstance(signature, str):
            raise CheckpointError("not a signed checkpoint")
        public_key = public_keys.get(kid)
        if public_key is None:
            raise CheckpointError(f"signed by {kid}, a key that is not configured")
        try:
            public_key.verify(
                base64.b64decode(signature, validate=True), orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
            )
        except (InvalidSignature, ValueError):
            raise CheckpointError("its signature does not verify") from None
        try:
            return cls(
                at=datetime.fromisoformat(payload["at"]),
                database=str(payload["database"]),
                heads=tuple(
                    Head(int(h["chainId"]), int(h["seq"]), bytes.fromhex(h["hash"]), int(h["legacyUntil"]))
                    for h in payload["heads"]
                ),
            )
        except (KeyError, TypeError, ValueError):
            raise CheckpointError("signed, but not a checkpoint this version understands") from None


def public_keys_of(keys: Iterable[Ed25519PrivateKey | Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """The public keys that verify checkpoints, by key id."""
    found: dict[str, Ed25519PublicKey] = {}
    for key in keys:
        public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
        found[signing_key_id(public)] = public
    return found
