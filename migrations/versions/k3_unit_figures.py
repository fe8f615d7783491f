"""unit figures frozen per cell when a cycle closes (issue 18: 实有单位 figures per cycle)

Revision ID: k3_unit_figures
Revises: k2_sync_protocol2
Create Date: 2026-12-04 23:10:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base


# revision identifiers, used by Alembic.
revision = 'k3_unit_figures'
down_revision = 'k2_sync_protocol2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'unit_figures',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('cycle_id', sa.Uuid(), nullable=False),
        sa.Column('cell_id', sa.Uuid(), nullable=True),
        sa.Column('cell_key', sa.String(length=40), nullable=False),
        sa.Column('units', sa.JSON(), nullable=False),
        sa.Column('employees', sa.JSON(), nullable=False),
        sa.Column('created_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['cell_id'], ['cell.id'], name=op.f('fk_unit_figures_cell_id_cell')),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_unit_figures_cycle_id_cycle')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_figures')),
        sa.UniqueConstraint('cycle_id', 'cell_key', name=op.f('uq_unit_figures_cycle_id')),
    )
    with op.batch_alter_table('unit_figures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_figures_cycle_id'), ['cycle_id'], unique=False)


def downgrade():
    with op.batch_alter_table('unit_figures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_figures_cycle_id'))
    op.drop_table('unit_figures')
