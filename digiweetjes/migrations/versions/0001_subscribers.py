"""Subscribers, consent ledger, suppression list, mail throttle.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATUSES = "'pending', 'active', 'unsubscribed', 'bounced', 'complained', 'erased'"
SOURCES = "'form', 'import', 'admin', 'webhook', 'system'"
EVENTS = ("'subscribed', 'confirmed', 'unsubscribed', 'imported', 'preferences_changed', "
          "'bounced', 'complained', 'erased', 'expired'")
REASONS = "'unsubscribed', 'complained', 'bounced', 'erased'"

# Columns of the ledger that nothing may change once written.
FROZEN = ("id", "email_hash", "event", "occurred_at", "source", "privacy_notice_version",
          "ip_hash", "detail")
APPEND_ONLY = "consent_events is append-only: only erasure may blank the address"


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("email_key", sa.String(320), nullable=True),
        sa.Column("email_hash", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("municipality", sa.String(40), nullable=True),
        sa.Column("subregion", sa.String(20), nullable=True),
        sa.Column("topics", sa.String(400), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("consent_note", sa.String(500), nullable=True),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("confirmation_sent_at"),
        _ts("confirmed_at"),
        _ts("unsubscribed_at"),
        _ts("bounced_at"),
        _ts("complained_at"),
        _ts("erased_at"),
        sa.PrimaryKeyConstraint("id", name="pk_subscribers"),
        sa.UniqueConstraint("email_key", name="uq_subscribers_email_key"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_subscribers_status"),
        sa.CheckConstraint(f"source IN ({SOURCES})", name="ck_subscribers_source"),
        sa.CheckConstraint("subregion IS NULL OR subregion IN ('noord', 'centrum', 'west')",
                           name="ck_subscribers_subregion"),
    )
    op.create_index("ix_subscribers_status_municipality", "subscribers",
                    ["status", "municipality"])
    op.create_index("ix_subscribers_status_subregion", "subscribers", ["status", "subregion"])

    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("event", sa.String(30), nullable=False),
        _ts("occurred_at", nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("privacy_notice_version", sa.String(40), nullable=True),
        sa.Column("ip_hash", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_consent_events"),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscribers.id"],
                                name="fk_consent_events_subscriber_id_subscribers",
                                ondelete="SET NULL"),
        sa.CheckConstraint(f"event IN ({EVENTS})", name="ck_consent_events_event"),
        sa.CheckConstraint(f"source IN ({SOURCES})", name="ck_consent_events_source"),
    )
    op.create_index("ix_consent_events_subscriber_id", "consent_events", ["subscriber_id"])
    op.create_index("ix_consent_events_email_hash", "consent_events", ["email_hash"])

    op.create_table(
        "suppressions",
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("email_hash", name="pk_suppressions"),
        sa.CheckConstraint(f"reason IN ({REASONS})", name="ck_suppressions_reason"),
        sa.CheckConstraint(f"source IN ({SOURCES})", name="ck_suppressions_source"),
    )

    op.create_table(
        "mail_throttle",
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        _ts("sent_at", nullable=False),
        sa.PrimaryKeyConstraint("email_hash", name="pk_mail_throttle"),
    )
    _create_append_only_guard()


def _create_append_only_guard() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN)
        op.execute(
            "CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
        op.execute(
            "CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events WHEN "
            f"{changed} "
            "OR (NEW.email IS NOT OLD.email AND NEW.email IS NOT NULL) "
            "OR (NEW.subscriber_id IS NOT OLD.subscriber_id AND NEW.subscriber_id IS NOT NULL) "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
    elif dialect == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FROZEN)
        op.execute(f"""
            CREATE FUNCTION consent_events_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'DELETE' OR {changed}
                 OR (NEW.email IS DISTINCT FROM OLD.email AND NEW.email IS NOT NULL)
                 OR (NEW.subscriber_id IS DISTINCT FROM OLD.subscriber_id
                     AND NEW.subscriber_id IS NOT NULL) THEN
                RAISE EXCEPTION '{APPEND_ONLY}';
              END IF;
              RETURN NEW;
            END $$
        """)
        op.execute(
            "CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events "
            "FOR EACH ROW EXECUTE FUNCTION consent_events_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS consent_events_append_only ON consent_events")
        op.execute("DROP FUNCTION IF EXISTS consent_events_append_only()")
    op.drop_table("mail_throttle")
    op.drop_table("suppressions")
    op.drop_table("consent_events")
    op.drop_table("subscribers")
