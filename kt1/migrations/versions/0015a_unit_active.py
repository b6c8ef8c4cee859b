"""a unit can be deactivated (issue 13, item 7)

``unit.is_active``: a deactivated unit takes no new users, devices or envelopes addressed
to it, and is left out of the administrator's choices; it stays in every record that names
it. It is deactivated only when nothing is held or open there (``unit_in_use``).

Revision ID: 0015a
Revises: 0001
Create Date: 2026-11-29 23:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0015a"
down_revision = "0001"
branch_labels = ("admin_edit",)
depends_on = None


def upgrade():
    op.add_column("unit", sa.Column("is_active", sa.Boolean(), nullable=False,
                                    server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("unit") as batch:
        batch.drop_column("is_active")
