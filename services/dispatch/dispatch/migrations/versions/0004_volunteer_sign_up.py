"""Volunteers' self sign-up: the consent they gave (its wording and when) and when their email
was verified.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.add_column(sa.Column("consent_wording", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("consent_given_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.drop_column("email_verified_at")
        batch_op.drop_column("consent_given_at")
        batch_op.drop_column("consent_wording")
