"""rules grading: residence checks and grade snapshots

Also merges the heads before it (coverage snapshots; plates, tips and the change sequence).

Revision ID: d6_rules_grading
Revises: b5_geo_coverage, c1_change_seq
Create Date: 2026-11-26 15:19:04.929517

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base


# revision identifiers, used by Alembic.
revision = 'd6_rules_grading'
down_revision = ('b5_geo_coverage', 'c1_change_seq')
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grade_snapshot',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('cycle_id', sa.Uuid(), nullable=False),
    sa.Column('committee_id', sa.Uuid(), nullable=True),
    sa.Column('committee_key', sa.String(length=40), nullable=False),
    sa.Column('grade', sa.String(length=12), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('created_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['committee_id'], ['committee.id'], name=op.f('fk_grade_snapshot_committee_id_committee')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_grade_snapshot_created_by_id_users')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_grade_snapshot_cycle_id_cycle')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_snapshot')),
    sa.UniqueConstraint('cycle_id', 'committee_key', name=op.f('uq_grade_snapshot_cycle_id'))
    )
    with op.batch_alter_table('grade_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grade_snapshot_committee_id'), ['committee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grade_snapshot_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('residence_check',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('house_id', sa.Uuid(), nullable=False),
    sa.Column('result', sa.String(length=12), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('checked_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['checked_by_id'], ['users.id'], name=op.f('fk_residence_check_checked_by_id_users')),
    sa.ForeignKeyConstraint(['house_id'], ['house.id'], name=op.f('fk_residence_check_house_id_house')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_residence_check'))
    )
    with op.batch_alter_table('residence_check', schema=None) as batch_op:
        batch_op.create_index('ix_residence_check_house_at', ['house_id', 'checked_at'], unique=False)



def downgrade():
    with op.batch_alter_table('residence_check', schema=None) as batch_op:
        batch_op.drop_index('ix_residence_check_house_at')

    op.drop_table('residence_check')
    with op.batch_alter_table('grade_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grade_snapshot_cycle_id'))
        batch_op.drop_index(batch_op.f('ix_grade_snapshot_committee_id'))

    op.drop_table('grade_snapshot')
