"""incident notices: who first opened an incident, its acknowledgement; users' email

Revision ID: 0010
Revises: 0001
Create Date: 2026-11-29 18:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0001"
branch_labels = ("incident_notices",)
depends_on = None


def upgrade():
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("head_notified_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sender_notified_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_incident_head_notified_by_id_user_account"), "user_account",
            ["head_notified_by_id"], ["id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_incident_sender_notified_by_id_user_account"), "user_account",
            ["sender_notified_by_id"], ["id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_incident_acknowledged_by_id_user_account"), "user_account",
            ["acknowledged_by_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_incident_acknowledged_at"), ["acknowledged_at"],
                              unique=False)
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("email")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_acknowledged_at"))
        batch_op.drop_constraint(batch_op.f("fk_incident_acknowledged_by_id_user_account"),
                                 type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_incident_sender_notified_by_id_user_account"),
                                 type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_incident_head_notified_by_id_user_account"),
                                 type_="foreignkey")
        batch_op.drop_column("acknowledged_by_id")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("sender_notified_by_id")
        batch_op.drop_column("head_notified_by_id")
