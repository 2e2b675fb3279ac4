"""Alembic environment: always online, on the connection handed in by ``runner``."""

from __future__ import annotations

from alembic import context

import digiweetjes.models  # noqa: F401  (registers every model on Base.metadata)
from digiweetjes.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through digiweetjes.migrations.runner (`digiweetjes init`)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
