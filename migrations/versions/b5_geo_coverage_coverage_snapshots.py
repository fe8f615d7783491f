"""coverage snapshots of closed cycles

Revision ID: b5_geo_coverage
Revises: a3_sync_cycles
Create Date: 2026-11-26 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base


# revision identifiers, used by Alembic.
revision = 'b5_geo_coverage'
down_revision = 'a3_sync_cycles'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coverage_snapshot',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('cycle_id', sa.Uuid(), nullable=False),
    sa.Column('cell_id', sa.Uuid(), nullable=False),
    sa.Column('committee_id', sa.Uuid(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('created_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cell_id'], ['cell.id'], name=op.f('fk_coverage_snapshot_cell_id_cell')),
    sa.ForeignKeyConstraint(['committee_id'], ['committee.id'], name=op.f('fk_coverage_snapshot_committee_id_committee')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_coverage_snapshot_created_by_id_users')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_coverage_snapshot_cycle_id_cycle')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coverage_snapshot')),
    sa.UniqueConstraint('cycle_id', 'cell_id', name=op.f('uq_coverage_snapshot_cycle_id'))
    )
    with op.batch_alter_table('coverage_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coverage_snapshot_cell_id'), ['cell_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coverage_snapshot_committee_id'), ['committee_id'], unique=False)
    # Index-only scans for the coverage GROUP BYs (see webapp/models/coverage.py).
    with op.batch_alter_table('house', schema=None) as batch_op:
        batch_op.create_index('ix_house_coverage', ['cell_id', 'deleted_at', 'id'], unique=False)
    with op.batch_alter_table('residency', schema=None) as batch_op:
        batch_op.create_index('ix_residency_coverage', ['house_id', 'deleted_at', 'start_date', 'end_date', 'person_id'], unique=False)
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_visited_at', ['visited_at'], unique=False)
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index('ix_person_deleted', ['id'], unique=False, sqlite_where=sa.text('deleted_at IS NOT NULL'), postgresql_where=sa.text('deleted_at IS NOT NULL'))
        batch_op.create_index('ix_person_changed_at', ['changed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_changed_at')
        batch_op.drop_index('ix_person_deleted', sqlite_where=sa.text('deleted_at IS NOT NULL'), postgresql_where=sa.text('deleted_at IS NOT NULL'))
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_visited_at')
    with op.batch_alter_table('residency', schema=None) as batch_op:
        batch_op.drop_index('ix_residency_coverage')
    with op.batch_alter_table('house', schema=None) as batch_op:
        batch_op.drop_index('ix_house_coverage')
    with op.batch_alter_table('coverage_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coverage_snapshot_committee_id'))
        batch_op.drop_index(batch_op.f('ix_coverage_snapshot_cell_id'))

    op.drop_table('coverage_snapshot')
