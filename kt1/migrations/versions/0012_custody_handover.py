"""custody handover on leaving or moving: handover records (biên bản bàn giao)

Revision ID: 0012
Revises: 0001
Create Date: 2026-11-29 18:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0001"
branch_labels = ("custody_handover",)
#: handover_record_item refers to handover_sheet
depends_on = ("0006_handover",)


def upgrade():
    op.create_table(
        "handover_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=48), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=False),
        sa.Column("receiver_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("ack_method", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["giver_id"], ["user_account.id"],
                                name=op.f("fk_handover_record_giver_id_user_account")),
        sa.ForeignKeyConstraint(["receiver_id"], ["user_account.id"],
                                name=op.f("fk_handover_record_receiver_id_user_account")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user_account.id"],
                                name=op.f("fk_handover_record_recorded_by_id_user_account")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"],
                                name=op.f("fk_handover_record_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_record")),
        sa.UniqueConstraint("number", name=op.f("uq_handover_record_number")),
        sa.UniqueConstraint("unit_id", "year", "seq",
                            name=op.f("uq_handover_record_unit_id_year_seq")),
    )
    with op.batch_alter_table("handover_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_record_giver_id"), ["giver_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_handover_record_receiver_id"), ["receiver_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_handover_record_unit_id"), ["unit_id"],
                              unique=False)
    op.create_table(
        "handover_record_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("envelope_id", sa.Integer(), nullable=True),
        sa.Column("bag_id", sa.Integer(), nullable=True),
        sa.Column("sheet_id", sa.Integer(), nullable=True),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["bag_id"], ["bag.id"],
                                name=op.f("fk_handover_record_item_bag_id_bag")),
        sa.ForeignKeyConstraint(["envelope_id"], ["envelope.id"],
                                name=op.f("fk_handover_record_item_envelope_id_envelope")),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoff.id"],
                                name=op.f("fk_handover_record_item_handoff_id_handoff")),
        sa.ForeignKeyConstraint(["record_id"], ["handover_record.id"],
                                name=op.f("fk_handover_record_item_record_id_handover_record")),
        sa.ForeignKeyConstraint(["sheet_id"], ["handover_sheet.id"],
                                name=op.f("fk_handover_record_item_sheet_id_handover_sheet")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_record_item")),
        sa.UniqueConstraint("record_id", "line_no",
                            name=op.f("uq_handover_record_item_record_id_line_no")),
    )
    with op.batch_alter_table("handover_record_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_record_item_envelope_id"),
                              ["envelope_id"], unique=False)


def downgrade():
    with op.batch_alter_table("handover_record_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handover_record_item_envelope_id"))
    op.drop_table("handover_record_item")
    with op.batch_alter_table("handover_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handover_record_unit_id"))
        batch_op.drop_index(batch_op.f("ix_handover_record_receiver_id"))
        batch_op.drop_index(batch_op.f("ix_handover_record_giver_id"))
    op.drop_table("handover_record")
