"""manifest lines taken out of an open bag

Revision ID: 0015c
Revises: 0001
Create Date: 2026-11-29 23:50:00

An envelope put in the wrong bag is taken out while the bag is open (an ``unbagged`` link
in its chain); its manifest line is kept, marked with the time it was taken out.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015c'
down_revision = '0001'
branch_labels = ('corrections',)
depends_on = None


def upgrade():
    with op.batch_alter_table('manifest_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('manifest_line', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
