"""Every attempt at sending a message, kept; and the offer or referral a reminder is about.

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


def upgrade() -> None:
    op.create_table(
        "message_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("message_attempts") as batch_op:
        batch_op.create_index("ix_message_attempts_message_id", ["message_id"])
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("subject_id", sa.String(length=36), nullable=True))
        batch_op.create_index("ix_messages_subject_id", ["subject_id"])


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_index("ix_messages_subject_id")
        batch_op.drop_column("subject_id")
    op.drop_table("message_attempts")
