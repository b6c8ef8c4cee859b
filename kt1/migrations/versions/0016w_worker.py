"""the background worker: its heartbeat and the notices it gave (issue 14)

``worker_heartbeat``: one row per ``kt1 worker`` process (host:pid), its last beat, code
version and schema heads (docs/worker.md). ``worker_notice``: overdue and unacknowledged
incident notices, one per (kind, ref, user), so none is given twice.

Revision ID: 0016w
Revises: 0001
Create Date: 2026-11-30 02:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0016w"
down_revision = "0001"
branch_labels = ("worker",)
depends_on = None


def upgrade():
    op.create_table(
        "worker_heartbeat",
        sa.Column("worker_id", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("schema_heads", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeat")),
    )
    op.create_index(op.f("ix_worker_heartbeat_beat_at"), "worker_heartbeat", ["beat_at"],
                    unique=False)
    op.create_table(
        "worker_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_worker_notice_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_notice")),
        sa.UniqueConstraint("kind", "ref", "user_id",
                            name=op.f("uq_worker_notice_kind_ref_user_id")),
    )
    op.create_index(op.f("ix_worker_notice_user_id"), "worker_notice", ["user_id"],
                    unique=False)


def downgrade():
    op.drop_index(op.f("ix_worker_notice_user_id"), table_name="worker_notice")
    op.drop_table("worker_notice")
    op.drop_index(op.f("ix_worker_heartbeat_beat_at"), table_name="worker_heartbeat")
    op.drop_table("worker_heartbeat")
