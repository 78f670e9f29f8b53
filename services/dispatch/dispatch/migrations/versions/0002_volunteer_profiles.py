"""Volunteer profiles (status, duty, DBS expiry, task limit, channel, languages, areas, weekly
slots), places for postcode districts and requests, and the shipped district centroids.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import csv
from importlib import resources

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    districts = op.create_table(
        "postcode_districts",
        sa.Column("district", sa.String(length=4), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("district"),
    )
    with resources.files("dispatch").joinpath("data/postcode_districts.csv").open() as shipped:
        op.bulk_insert(
            districts,
            [
                {
                    "district": row["district"],
                    "latitude": float(row["latitude"]),
                    "longitude": float(row["longitude"]),
                }
                for row in csv.DictReader(shipped)
            ],
        )

    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("max_distance_km", sa.Float(), nullable=False, server_default="5"))
        batch_op.add_column(sa.Column("dbs_expires_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="active")
        )
        batch_op.add_column(sa.Column("on_duty", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(
            sa.Column("preferred_channel", sa.String(length=8), nullable=False, server_default="email")
        )
        batch_op.add_column(sa.Column("languages", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("max_active_tasks", sa.Integer(), nullable=False, server_default="3"))
        batch_op.add_column(sa.Column("active_tasks", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_offered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_volunteers_status", ["status"])
        batch_op.create_index("ix_volunteers_place", ["latitude", "longitude"])
    op.execute("UPDATE volunteers SET status = 'left' WHERE NOT active")
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.drop_column("active")
    op.execute(
        "UPDATE volunteers SET"
        " latitude = (SELECT latitude FROM postcode_districts p WHERE p.district = volunteers.district),"
        " longitude = (SELECT longitude FROM postcode_districts p WHERE p.district = volunteers.district)"
    )
    op.execute(
        "UPDATE volunteers SET active_tasks ="
        " (SELECT count(*) FROM offers o"
        "  WHERE o.volunteer_id = volunteers.id AND o.status IN ('offered', 'accepted'))"
    )

    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))

    op.create_table(
        "volunteer_areas",
        sa.Column("volunteer_id", sa.String(length=36), nullable=False),
        sa.Column("district", sa.String(length=4), nullable=False),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteers.id"]),
        sa.PrimaryKeyConstraint("volunteer_id", "district"),
    )
    op.create_index("ix_volunteer_areas_district", "volunteer_areas", ["district"])
    op.create_table(
        "availability_slots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("volunteer_id", sa.String(length=36), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_availability_slots_volunteer_id", "availability_slots", ["volunteer_id"])


def downgrade() -> None:
    op.drop_table("availability_slots")
    op.drop_table("volunteer_areas")
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.drop_index("ix_volunteers_place")
        batch_op.drop_index("ix_volunteers_status")
        for column in (
            "last_offered_at", "active_tasks", "max_active_tasks", "languages", "preferred_channel",
            "on_duty", "status", "dbs_expires_on", "max_distance_km", "longitude", "latitude",
        ):  # fmt: skip
            batch_op.drop_column(column)
    op.drop_table("postcode_districts")
