"""Matching rules on every volunteer inside one index: each volunteer's skills as bits and
whether they set weekly slots are copied into their row, and the matching index carries every
column the hard rules read, and the id.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# As dispatch.models.SKILL_BITS, frozen here: a migration is history.
SKILL_BITS = {"shopping": 1, "prescription_collection": 2, "befriending": 4, "dog_walking": 8, "driving": 16}
OLD_INDEX = [
    "latitude_band", "longitude", "latitude", "max_distance_km", "status", "on_duty",
    "active_tasks", "max_active_tasks",
]  # fmt: skip
NEW_INDEX = [*OLD_INDEX, "skill_bits", "has_slots", "dbs_checked", "dbs_expires_on", "id"]


def upgrade() -> None:
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.add_column(sa.Column("skill_bits", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("has_slots", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_index("ix_volunteers_matching")
    bits = " ".join(f"WHEN '{skill}' THEN {bit}" for skill, bit in SKILL_BITS.items())
    op.execute(
        "UPDATE volunteers SET skill_bits = (SELECT COALESCE(SUM(CASE skill "
        f"{bits} ELSE 0 END), 0) FROM volunteer_skills WHERE volunteer_id = volunteers.id)"
    )
    op.execute(
        "UPDATE volunteers SET has_slots = EXISTS "
        "(SELECT 1 FROM availability_slots WHERE volunteer_id = volunteers.id)"
    )
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.create_index("ix_volunteers_matching", NEW_INDEX)


def downgrade() -> None:
    with op.batch_alter_table("volunteers") as batch_op:
        batch_op.drop_index("ix_volunteers_matching")
        batch_op.drop_column("has_slots")
        batch_op.drop_column("skill_bits")
        batch_op.create_index("ix_volunteers_matching", OLD_INDEX)
