"""provenance: who drafted, who signed, why it is secret (issue 11, item 4)

The envelope keeps its drafter (người soạn thảo), signer (người ký, chức vụ) and
classification basis (căn cứ xác định độ mật); the dated rule ``provenance_rule`` says which
of them a registration must record (docs/domain.md §8, classification basis). Existing
envelopes keep them null, so their hash chains are unchanged (kt1/services/chain.py).

Revision ID: 0009
Revises: 0001
Create Date: 2026-11-29 18:00:00

"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0001"
branch_labels = ("provenance",)
depends_on = None

FK = "fk_envelope_drafter_user_id_user_account"


def upgrade():
    table = op.create_table(
        "provenance_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("classification", sa.String(length=32), nullable=False),
        sa.Column("drafter_required", sa.Boolean(), nullable=False),
        sa.Column("signer_required", sa.Boolean(), nullable=False),
        sa.Column("basis_required", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provenance_rule")),
        sa.UniqueConstraint("effective_from", "classification",
                            name=op.f("uq_provenance_rule_effective_from_classification")),
    )
    # Plain ADD COLUMN on both engines: on SQLite a batch copy of ``envelope`` would have to
    # drop the table that every handoff references, which its foreign keys refuse.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE envelope ADD COLUMN drafter_user_id INTEGER "
                   f"CONSTRAINT {FK} REFERENCES user_account (id)")
    else:
        op.add_column("envelope", sa.Column("drafter_user_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FK, "envelope", "user_account", ["drafter_user_id"], ["id"])
    op.add_column("envelope", sa.Column("drafter_name", sa.String(length=120), nullable=True))
    op.add_column("envelope", sa.Column("signer_name", sa.String(length=120), nullable=True))
    op.add_column("envelope", sa.Column("signer_title", sa.String(length=120), nullable=True))
    op.add_column("envelope", sa.Column("classification_basis", sa.String(length=500),
                                        nullable=True))
    _seed(table)


def _seed(table):
    """Today's rule as editable data: Tuyệt mật and Tối mật record the drafter, the signer
    and the basis; Mật and unclassified items may (docs/domain.md §8)."""
    since = dt.date(2020, 4, 15)
    source = ("Law 29/2018/QH14; provincial inspection findings 2024: the classification "
              "cites the sector's list of state secrets (docs/domain.md §8)")
    rows = []
    for classification, required in (("top_secret", True), ("secret", True),
                                     ("confidential", False), ("unclassified", False)):
        rows.append({"effective_from": since, "classification": classification,
                     "drafter_required": required, "signer_required": required,
                     "basis_required": required, "source": source if required else ""})
    op.bulk_insert(table, rows)


def downgrade():
    # Plain DROP COLUMN on both engines (SQLite 3.35+ drops a column with its own foreign
    # key; PostgreSQL drops the constraint with the column), so that a database with
    # envelopes can go down too.
    for column in ("classification_basis", "signer_title", "signer_name", "drafter_name",
                   "drafter_user_id"):
        op.drop_column("envelope", column)
    op.drop_table("provenance_rule")
