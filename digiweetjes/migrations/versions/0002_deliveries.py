"""Campaigns and the delivery ledger.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CAMPAIGN_STATES = "'sending', 'paused', 'done'"
DELIVERY_STATES = "'queued', 'sending', 'sent', 'failed', 'uncertain', 'suppressed'"


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("tag", sa.String(100), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("audience_size", sa.Integer(), nullable=False),
        _ts("audience_frozen_at", nullable=False),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("finished_at"),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("issue_id", name="uq_campaigns_issue_id"),
        sa.CheckConstraint(f"state IN ({CAMPAIGN_STATES})", name="ck_campaigns_state"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        sa.Column("worker_id", sa.String(120), nullable=True),
        _ts("claimed_at"),
        sa.Column("idempotency_key", sa.String(64), nullable=True),
        _ts("key_first_used_at"),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        _ts("sent_at"),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name="fk_deliveries_campaign_id_campaigns", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name="fk_deliveries_subscriber_id_subscribers"),
        sa.UniqueConstraint("campaign_id", "subscriber_id", name="uq_deliveries_campaign_id"),
        sa.CheckConstraint(f"state IN ({DELIVERY_STATES})", name="ck_deliveries_state"),
    )
    for name, columns, state in (
            ("ix_deliveries_queued", ["campaign_id", "next_attempt_at", "id"], "queued"),
            ("ix_deliveries_sending", ["campaign_id", "idempotency_key"], "sending")):
        where = sa.text(f"state = '{state}'")
        op.create_index(name, "deliveries", columns, sqlite_where=where,
                        postgresql_where=where)


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("campaigns")
