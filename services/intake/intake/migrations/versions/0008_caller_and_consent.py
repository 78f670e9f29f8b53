"""Who called, when it was not the person who needs help (a relative, a neighbour, a GP
practice), kept apart from the requester's details; and the consent wording they agreed to.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch_op:
        batch_op.add_column(sa.Column("caller_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("caller_relation", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("caller_contact", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("consent_wording", sa.Text(), nullable=True))
        batch_op.create_index("ix_requests_requester_address", ["requester_postcode", "requester_address"])


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch_op:
        batch_op.drop_index("ix_requests_requester_address")
        for column in ("caller_name", "caller_relation", "caller_contact", "consent_wording"):
            batch_op.drop_column(column)
