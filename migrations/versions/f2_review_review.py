"""review: grid leads' review of coordinators' registrations and move-outs; committee.review_required

Revision ID: f2_review
Revises: e1_tasks
Create Date: 2026-11-27 02:42:33.792910

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base


# revision identifiers, used by Alembic.
revision = 'f2_review'
down_revision = 'e1_tasks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review',
    sa.Column('house_id', sa.Uuid(), nullable=False),
    sa.Column('cell_id', sa.Uuid(), nullable=True),
    sa.Column('residency_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('changed_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('purged_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cell_id'], ['cell.id'], name=op.f('fk_review_cell_id_cell')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_review_changed_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_review_decided_by_id_users')),
    sa.ForeignKeyConstraint(['house_id'], ['house.id'], name=op.f('fk_review_house_id_house')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_review_person_id_person')),
    sa.ForeignKeyConstraint(['residency_id'], ['residency.id'], name=op.f('fk_review_residency_id_residency')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_review_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review'))
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_house_id'), ['house_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_review_seq', ['seq'], unique=False)
        batch_op.create_index('ix_review_unstamped', ['id'], unique=False, sqlite_where=sa.text('seq IS NULL'), postgresql_where=sa.text('seq IS NULL'))
        batch_op.create_index('ix_review_waiting', ['cell_id', 'created_at'], unique=False, sqlite_where=sa.text("status != 'approved' AND deleted_at IS NULL"), postgresql_where=sa.text("status != 'approved' AND deleted_at IS NULL"))
        batch_op.create_index('uq_review_residency_kind', ['residency_id', 'kind'], unique=True, sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))

    with op.batch_alter_table('committee', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_required', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('committee', schema=None) as batch_op:
        batch_op.drop_column('review_required')

    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index('uq_review_residency_kind', sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))
        batch_op.drop_index('ix_review_waiting', sqlite_where=sa.text("status != 'approved' AND deleted_at IS NULL"), postgresql_where=sa.text("status != 'approved' AND deleted_at IS NULL"))
        batch_op.drop_index('ix_review_unstamped', sqlite_where=sa.text('seq IS NULL'), postgresql_where=sa.text('seq IS NULL'))
        batch_op.drop_index('ix_review_seq')
        batch_op.drop_index(batch_op.f('ix_review_person_id'))
        batch_op.drop_index(batch_op.f('ix_review_house_id'))

    op.drop_table('review')
