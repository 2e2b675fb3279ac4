"""Running the Alembic migrations programmatically, on a connection we own."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine

from digiweetjes.errors import SchemaOutdatedError

MIGRATIONS_DIR = __file__.rsplit("/", 1)[0]


def alembic_config() -> Config:
    """An Alembic config built in code, pointing at this package."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    return config


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision the code knows (a single head is enforced)."""
    heads = _script().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({heads}); merge them")
    return heads[0]


def known_revisions() -> set[str]:
    return {rev.revision for rev in _script().walk_revisions()}


def unknown_revision(revision: str) -> SchemaOutdatedError:
    """The error for a database at a migration this version of the code does not have."""
    return SchemaOutdatedError(
        f"de databank staat op een onbekende migratie ({revision}); deze versie van digiweetjes "
        f"kent alleen migraties tot {head_revision()}: werk digiweetjes bij, of gebruik de "
        "databank van deze versie")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Apply migrations up to ``revision`` in one transaction; returns the resulting revision."""
    config = alembic_config()
    with engine.begin() as connection:
        found = MigrationContext.configure(connection).get_current_heads()
        unknown = [rev for rev in found if rev not in known_revisions()]
        if unknown:
            raise unknown_revision(unknown[0])
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, revision)
        except CommandError as exc:
            # Alembic's "Can't locate revision ...": checked above, so only a race lands here.
            raise SchemaOutdatedError(f"de databank kan niet gemigreerd worden: {exc}") from exc
    current = current_revision(engine)
    assert current is not None
    return current


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` (``"base"`` for an empty schema); for tests."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
