"""Continuity: a requester may ask for the same volunteer as before, and a volunteer may agree
to be offered such requests; jobs are found by the requester's phone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.add_column(sa.Column("continuity", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(sa.Column("continuity", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_jobs_requester_phone", ["requester_phone"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_index("ix_jobs_requester_phone")
        batch_op.drop_column("continuity")
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.drop_column("continuity")
