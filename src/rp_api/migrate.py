"""Apply the Alembic migrations (``rp-api migrate``, and ``rp-api demo`` at start-up), as the owner role.

Two database roles (names from ``RP_DATABASE_OWNER_ROLE`` and ``RP_DATABASE_RUNTIME_ROLE``):

- the **owner** owns every table and function; the migrations run as it. Whoever runs ``rp-api migrate`` either
  logs in as it, or may act as it (a superuser, or a role it was granted to): then every migration runs after
  ``SET ROLE <owner>``, and objects an earlier run made under the migrating role itself are handed to the owner.
- the **runtime** role, which ``rp-api serve`` logs in as: the migrations grant it what the service does, and on
  the audit log nothing but SELECT and the two SECURITY DEFINER functions (append; partition upkeep).

A role that does not exist is created (``LOGIN``, no password) when the migrating role may create roles; on a
managed PostgreSQL the operator usually creates both beforehand (README, "Database roles"). Migrating refuses a
runtime role that is a superuser or may act as the owner: the audit log would be the runtime's to rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection

_PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Roles:
    owner: str = "rp_owner"
    runtime: str = "rp_runtime"


class UnsafeRolesError(RuntimeError):
    """The database roles cannot be set up as the audit log needs them (the message says what to do)."""


def _locate(name: str) -> Path:
    """In a wheel the migrations ship inside the package; in a source checkout they sit at the top level."""
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parents[1] / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{name} not found beside the rp_api package")


def alembic_config(url: URL, *, roles: Roles | None = None, audit_retention_months: int | None = None) -> Config:
    config = Config(str(_locate("alembic.ini")))
    config.set_main_option("script_location", str(_locate("migrations")))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    config.attributes["roles"] = roles or Roles()
    config.attributes["audit_retention_months"] = audit_retention_months
    return config


def upgrade(
    url: URL, revision: str = "head", *, roles: Roles | None = None, audit_retention_months: int | None = None
) -> None:
    """Migrate up to ``revision``; with ``audit_retention_months``, also give the database that retention (the
    least age of an audit partition it lets the runtime role drop)."""
    command.upgrade(alembic_config(url, roles=roles, audit_retention_months=audit_retention_months), revision)


def downgrade(url: URL, revision: str, *, roles: Roles | None = None) -> None:
    command.downgrade(alembic_config(url, roles=roles), revision)


def roles() -> Roles:
    """The roles of the migration being run (for a revision file: ``from rp_api.migrate import roles``)."""
    found = context.config.attributes.get("roles")
    if isinstance(found, Roles):
        return found
    from rp_api.settings import Settings  # the alembic command line: the roles come from the environment

    settings = Settings()
    return Roles(settings.database_owner_role, settings.database_runtime_role)


def _ours(connection: Connection) -> list[str]:
    """Tables of API RP (models, Alembic's own, audit partitions) in ``public`` owned by the migrating role."""
    import rp_api.models  # noqa: F401 - registers the tables
    from rp_api.models.base import Base

    names = [*Base.metadata.tables, "alembic_version"]
    found = connection.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relowner = current_user::regrole "
            "AND (c.relname = ANY(:names) OR c.relname LIKE 'audit\\_event\\_%') ORDER BY c.relname"
        ),
        {"names": names},
    )
    return list(found.scalars())


def prepare_roles(connection: Connection, roles: Roles) -> None:
    """Create the roles if needed, check that the runtime role cannot act as the owner, and make the rest of the
    connection's work the owner's (``SET ROLE``). Run by ``migrations/env.py`` before the migrations."""
    me = connection.execute(
        text("SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
    ).one()
    for role in (roles.owner, roles.runtime):
        if connection.scalar(text("SELECT count(*) FROM pg_roles WHERE rolname = :role"), {"role": role}):
            continue
        if not (me.rolsuper or me.rolcreaterole):
            raise UnsafeRolesError(
                f"role {role} does not exist and {me.rolname} may not create roles: create it first "
                "(README, 'Database roles')"
            )
        connection.execute(
            text(f"DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        )
    runtime = connection.execute(
        text(
            "SELECT rolsuper AS unrestricted, pg_has_role(:runtime, :owner, 'MEMBER') AS as_owner "
            "FROM pg_roles WHERE rolname = :runtime"
        ),
        {"runtime": roles.runtime, "owner": roles.owner},
    ).one()
    if runtime.unrestricted or runtime.as_owner:
        raise UnsafeRolesError(
            f"the runtime role {roles.runtime} is a superuser or may act as {roles.owner}: "
            "it could rewrite the audit log"
        )
    if me.rolname == roles.owner:
        return
    may_set = (  # PostgreSQL 16: a role's creator holds it with ADMIN OPTION, yet may not SET ROLE to it
        "SELECT CASE WHEN current_setting('server_version_num')::int >= 160000 "
        "THEN pg_has_role(current_user, :owner, 'SET') ELSE pg_has_role(current_user, :owner, 'MEMBER') END"
    )
    if not me.rolsuper and not connection.scalar(text(may_set), {"owner": roles.owner}):
        connection.execute(text(f"GRANT {roles.owner} TO {me.rolname}"))  # needs ADMIN OPTION on it (its creator)
    if not connection.scalar(text("SELECT has_schema_privilege(:owner, 'public', 'CREATE')"), {"owner": roles.owner}):
        connection.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {roles.owner}"))
    for table in _ours(connection):  # made by this role before the roles existed (an older demo database)
        connection.execute(text(f'ALTER TABLE public."{table}" OWNER TO {roles.owner}'))
    functions = connection.execute(
        text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname LIKE 'rp\\_%' AND p.proowner = current_user::regrole"
        )
    ).scalars()
    for function in list(functions):
        connection.execute(text(f"ALTER FUNCTION {function} OWNER TO {roles.owner}"))
    connection.execute(text(f"SET ROLE {roles.owner}"))


def give_retention(connection: Connection, months: int) -> None:
    """The least age, in months, of an audit partition the database lets the upkeep function drop."""
    if connection.scalar(text("SELECT to_regclass('public.audit_retention') IS NOT NULL")):
        connection.execute(text("UPDATE audit_retention SET months = :months"), {"months": months})
