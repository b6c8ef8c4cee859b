"""protection terms, decisions on a secret's life, and copies (issue 12, items 1 and 2)

The envelope gets its copy facts (copy of which document, "Bản số n/N", approval, copy
register number), "không được sao chụp", the day its classification was decided, its
protection term's end and where it is in its protection life. ``protection_rule`` holds
the dated terms (docs/domain.md §8), ``protection_decision`` the extensions,
declassifications and destructions, ``copy_approver`` who may allow copies in a unit.

Existing documents get their term where the classification date is known (their
document date) from the rule in force on it; the others keep no term and are flagged by
verify (protection_term_missing). Their hash chains are unchanged.

Revision ID: 0013
Revises: 0001
Create Date: 2026-11-29 22:30:00

"""
import calendar
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0001"
branch_labels = ("protection_copies",)
depends_on = None

_FKS = {"copy_of_id": ("fk_envelope_copy_of_id_envelope", "envelope"),
        "copy_approved_by_id": ("fk_envelope_copy_approved_by_id_user_account",
                                "user_account")}
_PLAIN = (
    ("copy_no", sa.Integer()), ("copy_total", sa.Integer()),
    ("copy_method", sa.String(length=32)), ("copy_approved_on", sa.Date()),
    ("copy_register_year", sa.Integer()), ("copy_register_seq", sa.Integer()),
    ("classified_on", sa.Date()), ("protection_until", sa.Date()),
)


def upgrade():
    rules = op.create_table(
        "protection_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("classification", sa.String(length=32), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protection_rule")),
        sa.UniqueConstraint("effective_from", "classification",
                            name=op.f("uq_protection_rule_effective_from_classification")),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column, (fk, target) in _FKS.items():
        # Plain ADD COLUMN on both engines (see 0009: a batch copy of envelope is refused).
        if sqlite:
            op.execute(f"ALTER TABLE envelope ADD COLUMN {column} INTEGER "
                       f"CONSTRAINT {fk} REFERENCES {target} (id)")
        else:
            op.add_column("envelope", sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(fk, "envelope", target, [column], ["id"])
    for column, type_ in _PLAIN:
        op.add_column("envelope", sa.Column(column, type_, nullable=True))
    op.add_column("envelope", sa.Column("copy_forbidden", sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.add_column("envelope", sa.Column("secrecy", sa.String(length=32), nullable=False,
                                        server_default="protected"))
    op.create_index(op.f("ix_envelope_copy_of_id"), "envelope", ["copy_of_id"])
    op.create_index(op.f("ix_envelope_protection_until"), "envelope", ["protection_until"])
    op.create_index("uq_envelope_copy_no", "envelope", ["copy_of_id", "copy_no"], unique=True)

    op.create_table(
        "protection_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("envelope_id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("decision_number", sa.String(length=64), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=False),
        sa.Column("decided_by_title", sa.String(length=120), nullable=False),
        sa.Column("previous_until", sa.Date(), nullable=True),
        sa.Column("new_until", sa.Date(), nullable=True),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("scope_note", sa.String(length=500), nullable=False),
        sa.Column("council_members", sa.Text(), nullable=False),
        sa.Column("record_number", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["envelope_id"], ["envelope.id"],
                                name=op.f("fk_protection_decision_envelope_id_envelope")),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoff.id"],
                                name=op.f("fk_protection_decision_handoff_id_handoff")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_protection_decision_created_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protection_decision")),
    )
    op.create_index(op.f("ix_protection_decision_envelope_id"), "protection_decision",
                    ["envelope_id"])
    op.create_table(
        "copy_approver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"],
                                name=op.f("fk_copy_approver_unit_id_unit")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_copy_approver_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy_approver")),
        sa.UniqueConstraint("unit_id", "user_id", name=op.f("uq_copy_approver_unit_id_user_id")),
    )
    op.create_index(op.f("ix_copy_approver_unit_id"), "copy_approver", ["unit_id"])
    seeded = _seed(rules)
    _fill_terms(seeded)


#: The dated terms (docs/domain.md §8). Law 29/2018's articles on terms took effect on
#: 01/01/2019; Law 117/2025 replaces it from 01/03/2026 and keeps the three terms (a new
#: law with other terms is a new row, never an edit).
SEED = (
    (dt.date(2019, 1, 1), "Law 29/2018/QH14 Art. 19"),
    (dt.date(2026, 3, 1), "Law 117/2025/QH15 (replaces Law 29/2018 from 01/03/2026)"),
)
YEARS = {"top_secret": 30, "secret": 20, "confidential": 10}


def _seed(table):
    rows = [{"effective_from": since, "classification": c, "years": years, "source": source}
            for since, source in SEED for c, years in YEARS.items()]
    op.bulk_insert(table, rows)
    return [(since, c, years) for since, _ in SEED for c, years in YEARS.items()]


def add_years(day, years):
    """``day`` plus whole years (29 February becomes 28 February)."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def _fill_terms(rules):
    """Where the classification date is known (the document date), the term from the rule
    in force on it; elsewhere no term (verify flags protection_term_missing)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, classification, document_date FROM envelope "
        "WHERE classification <> 'unclassified' AND document_date IS NOT NULL")).all()
    updates = []
    for id_, classification, day in rows:
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        in_force = [r for r in rules if r[1] == classification and r[0] <= day]
        if not in_force:
            continue
        years = max(in_force)[2]
        updates.append({"i": id_, "c": day, "u": add_years(day, years)})
    if updates:
        bind.execute(sa.text("UPDATE envelope SET classified_on = :c, protection_until = :u "
                             "WHERE id = :i"), updates)


def downgrade():
    op.drop_index(op.f("ix_copy_approver_unit_id"), table_name="copy_approver")
    op.drop_table("copy_approver")
    op.drop_index(op.f("ix_protection_decision_envelope_id"), table_name="protection_decision")
    op.drop_table("protection_decision")
    op.drop_index("uq_envelope_copy_no", table_name="envelope")
    op.drop_index(op.f("ix_envelope_protection_until"), table_name="envelope")
    op.drop_index(op.f("ix_envelope_copy_of_id"), table_name="envelope")
    for column in ("secrecy", "copy_forbidden", *(c for c, _ in reversed(_PLAIN)),
                   *reversed(list(_FKS))):
        op.drop_column("envelope", column)
    op.drop_table("protection_rule")
