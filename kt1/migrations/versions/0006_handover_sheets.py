"""handover sheets: the agency-to-post book (bảng kê giao bưu gửi)

Revision ID: 0006_handover
Revises: 0001
Create Date: 2026-11-23 17:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0006_handover"
down_revision = "0001"
branch_labels = ("handover",)
depends_on = None


def upgrade():
    op.create_table(
        "handover_sheet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=48), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("post_office_id", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["giver_id"], ["user_account.id"],
                                name=op.f("fk_handover_sheet_giver_id_user_account")),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"],
                                name=op.f("fk_handover_sheet_incident_id_incident")),
        sa.ForeignKeyConstraint(["post_office_id"], ["unit.id"],
                                name=op.f("fk_handover_sheet_post_office_id_unit")),
        sa.ForeignKeyConstraint(["signed_by_id"], ["user_account.id"],
                                name=op.f("fk_handover_sheet_signed_by_id_user_account")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"],
                                name=op.f("fk_handover_sheet_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_sheet")),
        sa.UniqueConstraint("number", name=op.f("uq_handover_sheet_number")),
        sa.UniqueConstraint("unit_id", "year", "seq",
                            name=op.f("uq_handover_sheet_unit_id_year_seq")),
    )
    with op.batch_alter_table("handover_sheet", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_sheet_post_office_id"),
                              ["post_office_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_handover_sheet_status"), ["status"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_handover_sheet_unit_id"), ["unit_id"],
                              unique=False)
    op.create_table(
        "handover_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("envelope_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["envelope_id"], ["envelope.id"],
                                name=op.f("fk_handover_line_envelope_id_envelope")),
        sa.ForeignKeyConstraint(["sheet_id"], ["handover_sheet.id"],
                                name=op.f("fk_handover_line_sheet_id_handover_sheet")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_line")),
        sa.UniqueConstraint("sheet_id", "envelope_id",
                            name=op.f("uq_handover_line_sheet_id_envelope_id")),
        sa.UniqueConstraint("sheet_id", "line_no",
                            name=op.f("uq_handover_line_sheet_id_line_no")),
    )
    with op.batch_alter_table("handover_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_line_envelope_id"), ["envelope_id"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("handover_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handover_line_envelope_id"))
    op.drop_table("handover_line")
    with op.batch_alter_table("handover_sheet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handover_sheet_unit_id"))
        batch_op.drop_index(batch_op.f("ix_handover_sheet_status"))
        batch_op.drop_index(batch_op.f("ix_handover_sheet_post_office_id"))
    op.drop_table("handover_sheet")
