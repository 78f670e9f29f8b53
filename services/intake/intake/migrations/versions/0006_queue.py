"""The work queue and the council's dashboard: each request's postcode district, when help is
due, and when it was first assigned and completed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# As intake.queue.DUE_WITHIN on the day this was written (a migration must not import the app).
DUE_WITHIN = {"urgent": timedelta(hours=24), "normal": timedelta(days=3), "low": timedelta(days=7)}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Making a column NOT NULL rebuilds the table on SQLite (a copy, the old one dropped):
        # the timeline's rows point at it, so foreign keys are off for this migration's
        # connection, as SQLite's own procedure for such changes says (before any transaction).
        op.execute("PRAGMA foreign_keys = OFF")
    with op.batch_alter_table("requests") as batch_op:
        batch_op.add_column(sa.Column("district", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    requests = sa.table(
        "requests",
        sa.column("id", sa.String),
        sa.column("requester_postcode", sa.String),
        sa.column("urgency", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("district", sa.String),
        sa.column("due_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(requests)).all():
        due = row.created_at + DUE_WITHIN.get(row.urgency, DUE_WITHIN["normal"])
        district = row.requester_postcode.split(" ", 1)[0]
        connection.execute(
            requests.update().where(requests.c.id == row.id).values(district=district, due_at=due)
        )
    # When each request was first taken on and done, from the timeline it already has.
    for column, kinds in (
        ("assigned_at", "'offer.accepted', 'referral.accepted'"),
        ("completed_at", "'task.completed', 'referral.completed'"),
    ):
        op.execute(
            f"UPDATE requests SET {column} = (SELECT MIN(timeline.at) FROM timeline "
            f"WHERE timeline.request_id = requests.id AND timeline.kind IN ({kinds}))"
        )
    with op.batch_alter_table("requests") as batch_op:
        batch_op.alter_column("district", nullable=False)
        batch_op.alter_column("due_at", nullable=False)
        batch_op.create_index("ix_requests_district", ["district"])
        batch_op.create_index("ix_requests_due_at", ["due_at"])
        batch_op.create_index("ix_requests_created_at", ["created_at"])
        batch_op.create_index("ix_requests_need", ["need"])


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch_op:
        for index in ("district", "due_at", "created_at", "need"):
            batch_op.drop_index(f"ix_requests_{index}")
        for column in ("district", "due_at", "assigned_at", "completed_at"):
            batch_op.drop_column(column)
