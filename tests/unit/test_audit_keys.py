"""The audit log's files outside the database: MAC keys (rotation), checkpoint keys, signed checkpoints."""

from __future__ import annotations

import base64
import hmac
import stat
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rp_api.audit_chain import Checkpoint, CheckpointError, Head, Keyring, KeyringError, public_keys_of
from rp_api.audit_keys import (
    AuditKeyError,
    append_checkpoint,
    checkpoint_path,
    load_keyring,
    load_signing_keys,
    read_checkpoints,
    signing_key,
)
from rp_api.settings import Environment, Settings

pytestmark = pytest.mark.usefixtures("clean_rp_environment")


def key_line(key_id: str, fill: int) -> str:
    return f"{key_id} {base64.b64encode(bytes([fill]) * 32).decode()}"


def test_the_first_key_signs_and_every_key_verifies() -> None:
    keyring = Keyring.parse(f"# rotated on 2027-01-01\n\n{key_line('k2027', 2)}\n{key_line('k2026', 1)}\n")
    assert keyring.current_id == "k2027"
    assert keyring.current == bytes([2]) * 32
    assert keyring.get("k2026") == bytes([1]) * 32
    assert keyring.get("k2025") is None
    for key_id in ("k2027", "k2026", "k2027"):  # from a context kept per key: the same as hmac's
        assert keyring.mac(key_id, b"content") == hmac.digest(keyring.keys[key_id], b"content", "sha256")
    assert repr(bytes([2]) * 32) not in repr(keyring)  # a key never shows in a traceback or a log


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "no key"),
        ("k1", "expected"),
        ("k/1 " + base64.b64encode(bytes(32)).decode(), "expected"),
        ("k1 not-base64!", "not base64"),
        ("k1 " + base64.b64encode(bytes(16)).decode(), "at least 32"),
        (f"{key_line('k1', 1)}\n{key_line('k1', 2)}", "twice"),
    ],
)
def test_a_key_file_that_cannot_be_used_is_refused_without_showing_a_key(text: str, problem: str) -> None:
    with pytest.raises(KeyringError, match=problem) as raised:
        Keyring.parse(text)
    assert base64.b64encode(bytes([2]) * 32).decode() not in str(raised.value)


def test_a_new_key_line_parses() -> None:
    assert Keyring.parse(Keyring.new_line("k2027-01")).current_id == "k2027-01"


@pytest.mark.parametrize("env", [Environment.TEST, Environment.DEV, Environment.DEMO])
def test_keys_are_generated_mode_0600_in_the_data_dir_where_allowed(tmp_path: Path, env: Environment) -> None:
    settings = Settings(env=env, data_dir=tmp_path)
    keyring = load_keyring(settings)
    assert load_keyring(settings) == keyring  # generated once, then read
    keys = load_signing_keys(settings)
    assert isinstance(signing_key(keys), Ed25519PrivateKey)
    for name in ("hmac-keys", "checkpoint-signing-key.pem"):
        path = tmp_path / "audit" / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "audit").stat().st_mode) == 0o700
    assert checkpoint_path(settings) == tmp_path / "audit" / "checkpoints.jsonl"


@pytest.mark.parametrize("env", [Environment.PROD, Environment.ACCEPTANCE])
def test_production_needs_its_key_files(tmp_path: Path, env: Environment) -> None:
    settings = Settings(env=env, data_dir=tmp_path)
    with pytest.raises(AuditKeyError, match="RP_AUDIT_KEY_FILE is required"):
        load_keyring(settings)
    with pytest.raises(AuditKeyError, match="RP_AUDIT_SIGNING_KEY_FILE is required"):
        load_signing_keys(settings)
    assert not (tmp_path / "audit").exists()


def test_mounted_key_files_are_read_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "keys").write_text(key_line("prod-1", 7) + "\n")
    private = Ed25519PrivateKey.generate()
    retired = Ed25519PrivateKey.generate().public_key()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + retired.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "signing.pem").write_bytes(pem)
    settings = Settings(
        env=Environment.PROD, audit_key_file=tmp_path / "keys", audit_signing_key_file=tmp_path / "signing.pem"
    )
    assert load_keyring(settings).current_id == "prod-1"
    keys = load_signing_keys(settings)
    assert len(keys) == 2
    assert signing_key(keys).public_key() == private.public_key()
    (tmp_path / "bad").write_text("k1 short\n")
    with pytest.raises(AuditKeyError, match="not valid"):
        load_keyring(settings.model_copy(update={"audit_key_file": tmp_path / "bad"}))


def checkpoint() -> Checkpoint:
    return Checkpoint(
        at=datetime(2026, 11, 29, 18, 0, tzinfo=UTC),
        database="rp",
        heads=(Head(0, 12, bytes(range(32)), 3), Head(1, 0, bytes(32), 0)),
    )


def test_a_signed_checkpoint_verifies_and_reads_back() -> None:
    key = Ed25519PrivateKey.generate()
    line = orjson.loads(orjson.dumps(checkpoint().signed(key)))  # through JSON, as it is stored
    assert Checkpoint.from_signed(line, public_keys_of([key])) == checkpoint()


@pytest.mark.parametrize("change", ["seq", "hash", "signature", "key"])
def test_a_changed_checkpoint_does_not_verify(change: str) -> None:
    key = Ed25519PrivateKey.generate()
    line = orjson.loads(orjson.dumps(checkpoint().signed(key)))
    keys = public_keys_of([key])
    if change == "seq":
        line["auditCheckpoint"]["heads"][0]["seq"] = 11
    elif change == "hash":
        line["auditCheckpoint"]["heads"][0]["hash"] = "00" * 32
    elif change == "signature":
        line["signature"] = base64.b64encode(bytes(64)).decode()
    else:
        keys = public_keys_of([Ed25519PrivateKey.generate()])
    with pytest.raises(CheckpointError):
        Checkpoint.from_signed(line, keys)


def test_checkpoints_are_read_from_checkpoint_files_and_shipped_logs(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    file = tmp_path / "audit" / "checkpoints.jsonl"
    append_checkpoint(file, checkpoint().signed(key))
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    log = tmp_path / "service.log"
    logged = {"event": "audit_checkpoint", "level": "info", **checkpoint().signed(key)}
    forged = checkpoint().signed(Ed25519PrivateKey.generate())
    log.write_bytes(
        b'{"event":"request","status":200}\n'
        + orjson.dumps(logged)
        + b"\nnot json at all\n"
        + orjson.dumps(forged)
        + b"\n"
    )
    found = read_checkpoints([file, log, tmp_path / "missing"], [key])
    assert found.checkpoints == [checkpoint(), checkpoint()]
    assert len(found.problems) == 1
    assert f"{log}:4: checkpoint signed by" in found.problems[0]


def test_new_key_prints_a_line_to_put_first() -> None:
    from typer.testing import CliRunner

    from rp_api.cli import app

    printed = CliRunner().invoke(app, ["audit", "new-key", "k2027"])
    assert printed.exit_code == 0
    assert Keyring.parse(printed.stdout).current_id == "k2027"
    refused = CliRunner().invoke(app, ["audit", "new-key", "k/2027"])
    assert refused.exit_code == 2
