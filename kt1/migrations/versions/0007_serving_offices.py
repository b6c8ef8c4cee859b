"""serving offices: which KT1 post offices accept an agency's envelopes

A post office accepts envelopes only from the agencies it serves (docs/access.md). Existing
installations keep working: every agency ↔ office pair already seen in an acceptance or
on a handover sheet is recorded as a serving relation.

Revision ID: 0007
Revises: 0006_handover
Create Date: 2026-11-29 11:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
# After the handover sheets (it reads them), on their branch.
down_revision = "0006_handover"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "serving_office",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("post_office_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ondelete="CASCADE",
                                name=op.f("fk_serving_office_unit_id_unit")),
        sa.ForeignKeyConstraint(["post_office_id"], ["unit.id"], ondelete="CASCADE",
                                name=op.f("fk_serving_office_post_office_id_unit")),
        sa.PrimaryKeyConstraint("unit_id", "post_office_id", name=op.f("pk_serving_office")),
    )
    with op.batch_alter_table("serving_office", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_serving_office_post_office_id"),
                              ["post_office_id"], unique=False)
    # Pairs already in use: acceptances recorded, and handover sheets made.
    op.execute(
        "INSERT INTO serving_office (unit_id, post_office_id) "
        "SELECT DISTINCT h.from_unit_id, h.to_unit_id FROM handoff h "
        "JOIN unit a ON a.id = h.from_unit_id AND a.kind = 'agency' "
        "JOIN unit p ON p.id = h.to_unit_id AND p.kind = 'post_office' "
        "WHERE h.kind = 'accepted' "
        "UNION "
        "SELECT DISTINCT s.unit_id, s.post_office_id FROM handover_sheet s "
        "JOIN unit a ON a.id = s.unit_id AND a.kind = 'agency' "
        "JOIN unit p ON p.id = s.post_office_id AND p.kind = 'post_office'")


def downgrade():
    with op.batch_alter_table("serving_office", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_serving_office_post_office_id"))
    op.drop_table("serving_office")
