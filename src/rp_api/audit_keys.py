"""The audit log's files outside the database: the MAC keys, the checkpoint signing keys, the checkpoint file.

In production the two key files are mounted secrets (``RP_AUDIT_KEY_FILE``, ``RP_AUDIT_SIGNING_KEY_FILE``): the
service refuses to start without them. In dev, demo and test each is generated at first use in
``RP_DATA_DIR/audit/`` (mode 0600). The checkpoint file (``RP_AUDIT_CHECKPOINT_FILE``) is appended to, one signed
line per checkpoint (mode 0600 when created).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rp_api.audit_chain import Checkpoint, CheckpointError, Keyring, KeyringError, public_keys_of
from rp_api.settings import Environment, Settings

GENERATED_IN = (Environment.DEV, Environment.DEMO, Environment.TEST)
"""Where a missing key is generated in the data directory; elsewhere the service refuses to start without one."""
_PEM_BEGIN = b"-----BEGIN "


class AuditKeyError(RuntimeError):
    """A key file that is missing where it must be given, or that cannot be used."""


def _default(settings: Settings, name: str, variable: str) -> Path:
    if settings.env not in GENERATED_IN:
        raise AuditKeyError(f"{variable} is required when RP_ENV is {settings.env} (see the README's audit section)")
    return settings.data_dir / "audit" / name


def hmac_key_path(settings: Settings) -> Path:
    return settings.audit_key_file or _default(settings, "hmac-keys", "RP_AUDIT_KEY_FILE")


def signing_key_path(settings: Settings) -> Path:
    default = "checkpoint-signing-key.pem"
    return settings.audit_signing_key_file or _default(settings, default, "RP_AUDIT_SIGNING_KEY_FILE")


def checkpoint_path(settings: Settings) -> Path:
    return settings.audit_checkpoint_file or settings.data_dir / "audit" / "checkpoints.jsonl"


def _create_private(path: Path, content: bytes) -> None:
    """Write a new file of mode 0600 atomically; a file another process created first wins."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def load_keyring(settings: Settings) -> Keyring:
    """The MAC keys of ``RP_AUDIT_KEY_FILE`` (generated in dev, demo and test when missing)."""
    path = hmac_key_path(settings)
    if settings.audit_key_file is None and not path.exists():
        key_id = f"{settings.env}-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(2)}"
        _create_private(path, f"# audit MAC keys: the first line signs\n{Keyring.new_line(key_id)}\n".encode())
    try:
        return Keyring.parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuditKeyError(f"the audit key file {path} cannot be read ({type(exc).__name__})") from None
    except KeyringError as exc:
        raise AuditKeyError(f"the audit key file {path} is not valid: {exc}") from None


def load_signing_keys(settings: Settings) -> list[Ed25519PrivateKey | Ed25519PublicKey]:
    """The checkpoint keys of ``RP_AUDIT_SIGNING_KEY_FILE`` (PEM, one or more; generated in dev, demo and test
    when missing). The first private key signs; every key, private or public, verifies."""
    path = signing_key_path(settings)
    if settings.audit_signing_key_file is None and not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _create_private(path, pem)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"the checkpoint key file {path} cannot be read ({type(exc).__name__})") from None
    keys: list[Ed25519PrivateKey | Ed25519PublicKey] = []
    for block in data.split(_PEM_BEGIN)[1:]:
        pem = _PEM_BEGIN + block
        try:
            key: Any = (
                serialization.load_pem_public_key(pem)
                if block.startswith(b"PUBLIC KEY")
                else serialization.load_pem_private_key(pem, password=None)
            )
        except (ValueError, TypeError):
            raise AuditKeyError(f"the checkpoint key file {path} holds a PEM block that is not a key") from None
        if not isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
            raise AuditKeyError(f"the checkpoint key file {path} holds a key that is not Ed25519")
        keys.append(key)
    if not keys:
        raise AuditKeyError(f"the checkpoint key file {path} holds no key")
    return keys


def signing_key(keys: Sequence[Ed25519PrivateKey | Ed25519PublicKey]) -> Ed25519PrivateKey:
    for key in keys:
        if isinstance(key, Ed25519PrivateKey):
            return key
    raise AuditKeyError("the checkpoint key file holds no private key: the service cannot sign checkpoints")


def append_checkpoint(path: Path, line: dict[str, Any]) -> None:
    """Append one signed checkpoint line (the file is created with mode 0600), flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "ab") as handle:
        handle.write(orjson.dumps(line) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


@dataclass
class CheckpointsRead:
    checkpoints: list[Checkpoint] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Lines that claim to be checkpoints but do not verify, as ``file:line: problem``."""


def read_checkpoints(paths: Iterable[Path], keys: Sequence[Ed25519PrivateKey | Ed25519PublicKey]) -> CheckpointsRead:
    """The checkpoints of checkpoint files or of shipped log files (any JSON line with ``auditCheckpoint``);
    other lines are skipped. A missing file holds none."""
    public_keys = public_keys_of(keys)
    found = CheckpointsRead()
    for path in paths:
        try:
            lines = path.read_bytes().splitlines()
        except FileNotFoundError:
            continue
        for number, raw in enumerate(lines, start=1):
            if b"auditCheckpoint" not in raw:
                continue
            try:
                line = orjson.loads(raw)
            except orjson.JSONDecodeError:
                found.problems.append(f"{path}:{number}: a checkpoint line that is not JSON")
                continue
            if not isinstance(line, dict) or "auditCheckpoint" not in line:
                continue
            try:
                found.checkpoints.append(Checkpoint.from_signed(line, public_keys))
            except CheckpointError as exc:
                found.problems.append(f"{path}:{number}: checkpoint {exc}")
    return found
