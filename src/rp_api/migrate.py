"""Apply the Alembic migrations (``rp-api migrate``, and ``rp-api demo`` at start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL

_PACKAGE_DIR = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    """In a wheel the migrations ship inside the package; in a source checkout they sit at the top level."""
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parents[1] / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{name} not found beside the rp_api package")


def alembic_config(url: URL) -> Config:
    config = Config(str(_locate("alembic.ini")))
    config.set_main_option("script_location", str(_locate("migrations")))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


def upgrade(url: URL, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: URL, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
