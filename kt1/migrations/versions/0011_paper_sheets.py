"""paper sheets: internal handover sheets (phiếu chuyển giao nội bộ) and every sheet print

Revision ID: 0011
Revises: 0006_handover
Create Date: 2026-11-29 18:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0006_handover"
branch_labels = ("paper_sheets",)
depends_on = None


def upgrade():
    op.create_table(
        "internal_sheet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=48), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=False),
        sa.Column("receiver_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["giver_id"], ["user_account.id"],
                                name=op.f("fk_internal_sheet_giver_id_user_account")),
        sa.ForeignKeyConstraint(["receiver_id"], ["user_account.id"],
                                name=op.f("fk_internal_sheet_receiver_id_user_account")),
        sa.ForeignKeyConstraint(["signed_by_id"], ["user_account.id"],
                                name=op.f("fk_internal_sheet_signed_by_id_user_account")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"],
                                name=op.f("fk_internal_sheet_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_internal_sheet")),
        sa.UniqueConstraint("number", name=op.f("uq_internal_sheet_number")),
        sa.UniqueConstraint("unit_id", "year", "seq",
                            name=op.f("uq_internal_sheet_unit_id_year_seq")),
    )
    with op.batch_alter_table("internal_sheet", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_internal_sheet_receiver_id"), ["receiver_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_internal_sheet_status"), ["status"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_internal_sheet_unit_id"), ["unit_id"],
                              unique=False)
    op.create_table(
        "internal_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("envelope_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("ticked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticked_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["envelope_id"], ["envelope.id"],
                                name=op.f("fk_internal_line_envelope_id_envelope")),
        sa.ForeignKeyConstraint(["sheet_id"], ["internal_sheet.id"],
                                name=op.f("fk_internal_line_sheet_id_internal_sheet")),
        sa.ForeignKeyConstraint(["ticked_by_id"], ["user_account.id"],
                                name=op.f("fk_internal_line_ticked_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_internal_line")),
        sa.UniqueConstraint("sheet_id", "envelope_id",
                            name=op.f("uq_internal_line_sheet_id_envelope_id")),
        sa.UniqueConstraint("sheet_id", "line_no",
                            name=op.f("uq_internal_line_sheet_id_line_no")),
    )
    with op.batch_alter_table("internal_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_internal_line_envelope_id"), ["envelope_id"],
                              unique=False)
    op.create_table(
        "sheet_print",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sheet_number", sa.String(length=48), nullable=False),
        sa.Column("handover_sheet_id", sa.Integer(), nullable=True),
        sa.Column("internal_sheet_id", sa.Integer(), nullable=True),
        sa.Column("printed_by_id", sa.Integer(), nullable=False),
        sa.Column("printed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["handover_sheet_id"], ["handover_sheet.id"],
                                name=op.f("fk_sheet_print_handover_sheet_id_handover_sheet")),
        sa.ForeignKeyConstraint(["internal_sheet_id"], ["internal_sheet.id"],
                                name=op.f("fk_sheet_print_internal_sheet_id_internal_sheet")),
        sa.ForeignKeyConstraint(["printed_by_id"], ["user_account.id"],
                                name=op.f("fk_sheet_print_printed_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sheet_print")),
    )
    with op.batch_alter_table("sheet_print", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sheet_print_sheet_number"), ["sheet_number"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("sheet_print", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sheet_print_sheet_number"))
    op.drop_table("sheet_print")
    with op.batch_alter_table("internal_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_internal_line_envelope_id"))
    op.drop_table("internal_line")
    with op.batch_alter_table("internal_sheet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_internal_sheet_unit_id"))
        batch_op.drop_index(batch_op.f("ix_internal_sheet_status"))
        batch_op.drop_index(batch_op.f("ix_internal_sheet_receiver_id"))
    op.drop_table("internal_sheet")
