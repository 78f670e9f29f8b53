"""Wards for the council's dashboard: a lookup from full postcode to ward, imported by an admin
(`hub wards import FILE`), and each request's ward.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ward_lookup",
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("ward", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("postcode"),
    )
    with op.batch_alter_table("requests") as batch_op:
        batch_op.add_column(sa.Column("ward", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch_op:
        batch_op.drop_column("ward")
    op.drop_table("ward_lookup")
