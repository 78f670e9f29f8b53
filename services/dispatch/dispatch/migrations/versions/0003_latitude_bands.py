"""Latitude bands for matching by place: an index on (band, longitude, then the columns the
cheap rules read) instead of (latitude, longitude), so a search seeks a few bands instead of
scanning one wide band, and rejects most rows without reading the table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import math

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.add_column(sa.Column("latitude_band", sa.Integer(), nullable=True))
        batch_op.drop_index("ix_volunteers_place")
        batch_op.create_index(
            "ix_volunteers_matching",
            ["latitude_band", "longitude", "latitude", "max_distance_km",
             "status", "on_duty", "active_tasks", "max_active_tasks"],
        )  # fmt: skip
    # Computed in Python: SQL's CAST truncates on SQLite and rounds on PostgreSQL.
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, latitude FROM volunteers WHERE latitude IS NOT NULL")).all()
    for volunteer_id, latitude in rows:
        connection.execute(
            sa.text("UPDATE volunteers SET latitude_band = :band WHERE id = :id"),
            {"band": latitude_band(latitude), "id": volunteer_id},
        )


def latitude_band(latitude: float) -> int:
    return math.floor(latitude * 100)  # as dispatch.matching.latitude_band, frozen here


def downgrade() -> None:
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.drop_index("ix_volunteers_matching")
        batch_op.create_index("ix_volunteers_place", ["latitude", "longitude"])
        batch_op.drop_column("latitude_band")
