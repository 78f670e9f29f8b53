"""Text messages: the provider's id (for delivery receipts), segments, whether it is urgent
(quiet hours let it through), when the provider said it was delivered; volunteers' replies,
and the numbers that replied STOP.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("provider_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("segments", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_messages_provider_id", ["provider_id"])
    op.create_table(
        "replies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("keyword", sa.String(length=8), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_id"),
    )
    with op.batch_alter_table("replies") as batch_op:
        batch_op.create_index("ix_replies_sender", ["sender"])
        batch_op.create_index("ix_replies_received_at", ["received_at"])
    op.create_table(
        "sms_opt_outs",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone"),
    )


def downgrade() -> None:
    op.drop_table("sms_opt_outs")
    op.drop_table("replies")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_index("ix_messages_provider_id")
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("urgent")
        batch_op.drop_column("segments")
        batch_op.drop_column("provider_id")
