"""Who did what on a request (the timeline's actor), who opened which request when (every look
at a request's personal details is kept; the page shows who else is on it), and who took each
request on (volunteers, or which partner group) for the council's dashboard.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("timeline") as batch_op:
        batch_op.add_column(sa.Column("actor", sa.String(length=254), nullable=True))
    with op.batch_alter_table("requests") as batch_op:
        batch_op.add_column(sa.Column("helped_by", sa.String(length=120), nullable=True))
    # Who took existing requests on, from their timelines (a partner's name is not kept there).
    for kind, who in (("referral.accepted", "a partner group"), ("offer.accepted", "volunteers")):
        op.execute(
            f"UPDATE requests SET helped_by = '{who}' WHERE EXISTS (SELECT 1 FROM timeline "
            f"WHERE timeline.request_id = requests.id AND timeline.kind = '{kind}')"
        )
    op.create_table(
        "request_looks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("request_looks") as batch_op:
        batch_op.create_index("ix_request_looks_request_id_at", ["request_id", "at"])


def downgrade() -> None:
    op.drop_table("request_looks")
    with op.batch_alter_table("requests") as batch_op:
        batch_op.drop_column("helped_by")
    with op.batch_alter_table("timeline") as batch_op:
        batch_op.drop_column("actor")
