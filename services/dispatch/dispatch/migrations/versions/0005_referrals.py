"""Referrals to partner groups, and each partner's count of referrals per day (its capacity).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OPEN = "status IN ('sent', 'accepted', 'completed')"


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("partner_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["jobs.request_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "partner_id", name="uq_referrals_request_partner"),
    )
    with op.batch_alter_table("referrals") as batch_op:
        batch_op.create_index("ix_referrals_request_id", ["request_id"])
        batch_op.create_index("ix_referrals_partner_id", ["partner_id"])
        batch_op.create_index("ix_referrals_status", ["status"])
        batch_op.create_index("ix_referrals_expires_at", ["expires_at"])
        batch_op.create_index(
            "uq_referrals_one_open",
            ["request_id"],
            unique=True,
            sqlite_where=sa.text(OPEN),
            postgresql_where=sa.text(OPEN),
        )
    op.create_table(
        "partner_days",
        sa.Column("partner_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("referrals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("partner_days")
    op.drop_table("referrals")
