"""printing: printers per workstation, print jobs and their attempts

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 16:40:00.000000

A feature branch of its own (label ``printing``): the app runs ``upgrade heads``, so it
coexists with the other branches. Reprints live here, never in the custody hash chain.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0001'
branch_labels = ('printing',)
depends_on = None


def upgrade():
    op.create_table('printer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('uri', sa.String(length=500), nullable=False),
    sa.Column('profile', sa.String(length=64), nullable=True),
    sa.Column('width_mm', sa.Integer(), nullable=False),
    sa.Column('workstation', sa.String(length=128), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_printer')),
    sa.UniqueConstraint('name', name=op.f('uq_printer_name'))
    )
    op.create_index(op.f('ix_printer_workstation'), 'printer', ['workstation'], unique=False)
    op.create_table('print_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('envelope_id', sa.Integer(), nullable=True),
    sa.Column('numbers', sa.String(length=2000), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('printer_id', sa.Integer(), nullable=True),
    sa.Column('printer_name', sa.String(length=64), nullable=False),
    sa.Column('uri', sa.String(length=500), nullable=False),
    sa.Column('profile', sa.String(length=64), nullable=True),
    sa.Column('width_mm', sa.Integer(), nullable=False),
    sa.Column('workstation', sa.String(length=128), nullable=False),
    sa.Column('shows_document_number', sa.Boolean(), nullable=False),
    sa.Column('is_reprint', sa.Boolean(), nullable=False),
    sa.Column('reprint_reason', sa.String(length=200), nullable=True),
    sa.Column('reprint_of_id', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bytes_sent', sa.Integer(), nullable=True),
    sa.Column('payload_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['envelope_id'], ['envelope.id'], name=op.f('fk_print_job_envelope_id_envelope')),
    sa.ForeignKeyConstraint(['printer_id'], ['printer.id'], name=op.f('fk_print_job_printer_id_printer')),
    sa.ForeignKeyConstraint(['reprint_of_id'], ['print_job.id'], name=op.f('fk_print_job_reprint_of_id_print_job')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_print_job_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_job'))
    )
    op.create_index(op.f('ix_print_job_envelope_id'), 'print_job', ['envelope_id'], unique=False)
    op.create_index(op.f('ix_print_job_next_attempt_at'), 'print_job', ['next_attempt_at'], unique=False)
    op.create_index(op.f('ix_print_job_state'), 'print_job', ['state'], unique=False)
    op.create_table('print_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=True),
    sa.Column('bytes_sent', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['print_job.id'], name=op.f('fk_print_attempt_job_id_print_job')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_attempt')),
    sa.UniqueConstraint('job_id', 'number', name=op.f('uq_print_attempt_job_id_number'))
    )
    op.create_index(op.f('ix_print_attempt_job_id'), 'print_attempt', ['job_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_print_attempt_job_id'), table_name='print_attempt')
    op.drop_table('print_attempt')
    op.drop_index(op.f('ix_print_job_state'), table_name='print_job')
    op.drop_index(op.f('ix_print_job_next_attempt_at'), table_name='print_job')
    op.drop_index(op.f('ix_print_job_envelope_id'), table_name='print_job')
    op.drop_table('print_job')
    op.drop_index(op.f('ix_printer_workstation'), table_name='printer')
    op.drop_table('printer')
