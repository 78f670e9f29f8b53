"""The latest ranking of volunteers for each request (for coordinators), and the requester's
wish for the same volunteer as before.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch_op:
        batch_op.add_column(
            sa.Column("consent_same_volunteer", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("ranked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "candidates",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.String(length=36), nullable=False),
        sa.Column("volunteer_name", sa.String(length=200), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"]),
        sa.PrimaryKeyConstraint("request_id", "rank"),
    )


def downgrade() -> None:
    op.drop_table("candidates")
    with op.batch_alter_table("requests") as batch_op:
        batch_op.drop_column("ranked_at")
        batch_op.drop_column("consent_same_volunteer")
