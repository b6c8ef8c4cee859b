"""self-inspection reports and their remediations (issue 12, item 4)

``self_inspection`` holds a unit's reports (báo cáo tự kiểm tra, TKT-UNIT-YEAR-NNN) with
their period, who ran and who signed them and a digest of their content;
``self_inspection_item`` one row per checklist item (count, numbers concerned, fixed and
new since the unit's previous report); ``remediation`` what the unit does about an item
(who fixes it, by when, done when), tracked across reports until closed.

Revision ID: 0014
Revises: 0001
Create Date: 2026-11-30 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0001"
branch_labels = ("self_inspection",)
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade():
    op.create_table(
        "self_inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=48), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_by_id", sa.Integer(), nullable=True),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_name", sa.String(length=120), nullable=True),
        sa.Column("signed_title", sa.String(length=120), nullable=True),
        _fk("self_inspection", "unit_id", "unit"),
        _fk("self_inspection", "run_by_id", "user_account"),
        _fk("self_inspection", "signed_by_id", "user_account"),
        _fk("self_inspection", "previous_id", "self_inspection"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_inspection")),
        sa.UniqueConstraint("number", name=op.f("uq_self_inspection_number")),
        sa.UniqueConstraint("unit_id", "year", "seq",
                            name=op.f("uq_self_inspection_unit_id_year_seq")),
    )
    op.create_index(op.f("ix_self_inspection_unit_id"), "self_inspection", ["unit_id"])
    op.create_table(
        "self_inspection_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("fixed", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        _fk("self_inspection_item", "inspection_id", "self_inspection"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_inspection_item")),
        sa.UniqueConstraint("inspection_id", "code",
                            name=op.f("uq_self_inspection_item_inspection_id_code")),
    )
    op.create_table(
        "remediation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("opened_in_id", sa.Integer(), nullable=False),
        sa.Column("assignee_user_id", sa.Integer(), nullable=True),
        sa.Column("assignee_name", sa.String(length=120), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("closed_in_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        _fk("remediation", "unit_id", "unit"),
        _fk("remediation", "opened_in_id", "self_inspection"),
        _fk("remediation", "closed_in_id", "self_inspection"),
        _fk("remediation", "assignee_user_id", "user_account"),
        _fk("remediation", "updated_by_id", "user_account"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remediation")),
    )
    op.create_index(op.f("ix_remediation_unit_id"), "remediation", ["unit_id"])
    op.create_index(op.f("ix_remediation_opened_in_id"), "remediation", ["opened_in_id"])


def downgrade():
    op.drop_index(op.f("ix_remediation_opened_in_id"), table_name="remediation")
    op.drop_index(op.f("ix_remediation_unit_id"), table_name="remediation")
    op.drop_table("remediation")
    op.drop_table("self_inspection_item")
    op.drop_index(op.f("ix_self_inspection_unit_id"), table_name="self_inspection")
    op.drop_table("self_inspection")
