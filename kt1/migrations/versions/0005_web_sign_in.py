"""web sign-in: session epoch for "sign out everywhere", sign-in attempts for throttling

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-23 16:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = ("web",)
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), server_default="0",
                                      nullable=False))
    op.create_table(
        "sign_in_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempt")),
    )
    with op.batch_alter_table("sign_in_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_attempt_username_at", ["username", "at"], unique=False)


def downgrade():
    with op.batch_alter_table("sign_in_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_attempt_username_at")
    op.drop_table("sign_in_attempt")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
