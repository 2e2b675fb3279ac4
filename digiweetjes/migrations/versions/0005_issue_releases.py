"""The release lifecycle of each issue, and the content each campaign actually sent.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ISSUE_STATES = ("'draft', 'approved', 'scheduled', 'sending', 'sent', 'paused', 'cancelled', "
                "'missed'")


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "issue_releases",
        sa.Column("issue_id", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        _ts("approved_at"),
        _ts("send_at"),
        sa.Column("reason", sa.Text(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("issue_id", name="pk_issue_releases"),
        sa.CheckConstraint(f"state IN ({ISSUE_STATES})", name="ck_issue_releases_state"),
    )
    op.create_index("ix_issue_releases_state_send_at", "issue_releases", ["state", "send_at"])
    # SQLite adds nullable columns in place; no batch rebuild (it would lose partial indexes).
    op.add_column("campaigns", sa.Column("html", sa.Text(), nullable=True))
    op.add_column("campaigns", sa.Column("text", sa.Text(), nullable=True))
    op.add_column("campaigns", sa.Column("web_html", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("campaigns", "web_html")
    op.drop_column("campaigns", "text")
    op.drop_column("campaigns", "html")
    op.drop_index("ix_issue_releases_state_send_at", table_name="issue_releases")
    op.drop_table("issue_releases")
