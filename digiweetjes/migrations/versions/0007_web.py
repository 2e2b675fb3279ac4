"""The web app: provider webhook events, and subscribers found by their address hash.

``webhook_events`` stores every provider event once (``models.webhook_event``). The index on
``subscribers.email_hash`` serves the links of the web pages, which name a subscriber by a
prefix of that keyed hash instead of the database id.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

KINDS = ("hard_bounce", "soft_bounce", "complaint", "unsubscribe", "other")


def upgrade() -> None:
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("provider_event", sa.String(60), nullable=False),
        sa.Column("email_hash", sa.String(64), nullable=True),
        sa.Column("reference", sa.String(64), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
                           name="ck_webhook_events_kind"),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"], ondelete="SET NULL",
                                name="fk_webhook_events_delivery_id_deliveries"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_events"),
        sa.UniqueConstraint("provider", "event_key", name="uq_webhook_events_provider"),
    )
    op.create_index("ix_webhook_events_email_hash_kind", "webhook_events",
                    ["email_hash", "kind"])
    op.create_index("ix_webhook_events_delivery_id", "webhook_events", ["delivery_id"])
    op.create_index("ix_subscribers_email_hash", "subscribers", ["email_hash"])


def downgrade() -> None:
    op.drop_index("ix_subscribers_email_hash", table_name="subscribers")
    op.drop_table("webhook_events")
