"""Per-delivery references for webhooks, and an index on the provider's message id.

Existing deliveries get a random reference of the same shape as new ones (31 lowercase hex
characters, see ``digiweetjes.sending.references``): a prefix random per database run of this
migration, then random hex per row. The column stays nullable in the schema (SQLite cannot add a
NOT NULL column without a default), but every row has a reference from here on.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _fill_statement(dialect: str, prefix: str) -> str:
    if dialect == "postgresql":
        noise = "substr(md5(random()::text || clock_timestamp()::text || id::text), 1, 21)"
    else:
        noise = "substr(lower(hex(randomblob(11))), 1, 21)"
    return f"UPDATE deliveries SET reference = '{prefix}' || {noise} WHERE reference IS NULL"


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("reference", sa.String(40), nullable=True))
    bind = op.get_bind()
    # hex only, generated here: safe to put into the statement.
    op.execute(_fill_statement(bind.dialect.name, secrets.token_hex(5)))
    op.create_index("ix_deliveries_reference", "deliveries", ["reference"], unique=True)
    where = sa.text("message_id IS NOT NULL")
    op.create_index("ix_deliveries_message_id", "deliveries", ["message_id"],
                    sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index("ix_deliveries_message_id", table_name="deliveries")
    op.drop_index("ix_deliveries_reference", table_name="deliveries")
    # SQLite 3.35+ drops a column in place (a batch rebuild would lose the partial indexes).
    op.drop_column("deliveries", "reference")
