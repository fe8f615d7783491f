"""plates, tips and rate counters

Revision ID: b6_plates_tips
Revises: a3_sync_cycles
Create Date: 2026-11-26 15:06:24.235335

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base


# revision identifiers, used by Alembic.
revision = 'b6_plates_tips'
down_revision = 'a3_sync_cycles'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_counter',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('window_start', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_counter'))
    )
    with op.batch_alter_table('rate_counter', schema=None) as batch_op:
        batch_op.create_index('ix_rate_counter_window_start', ['window_start'], unique=False)

    # `seq` and its two indexes are what every synced table carries (sync's change sequence):
    # tip is created with them, so no later migration has to alter it.
    op.create_table('tip',
    sa.Column('house_id', sa.Uuid(), nullable=False),
    sa.Column('cell_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('created_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_ip_hash', sa.String(length=64), nullable=True),
    sa.Column('closed_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('changed_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('purged_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cell_id'], ['cell.id'], name=op.f('fk_tip_cell_id_cell')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_tip_changed_by_id_users')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_tip_closed_by_id_users')),
    sa.ForeignKeyConstraint(['house_id'], ['house.id'], name=op.f('fk_tip_house_id_house')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip'))
    )
    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tip_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tip_house_id'), ['house_id'], unique=False)
        batch_op.create_index('ix_tip_open', ['cell_id', 'created_at'], unique=False, sqlite_where=sa.text("status = 'open' AND deleted_at IS NULL"), postgresql_where=sa.text("status = 'open' AND deleted_at IS NULL"))
        batch_op.create_index('ix_tip_seq', ['seq'], unique=False)
        batch_op.create_index('ix_tip_unstamped', ['id'], unique=False, sqlite_where=sa.text('seq IS NULL'), postgresql_where=sa.text('seq IS NULL'))


def downgrade():
    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.drop_index('ix_tip_unstamped', sqlite_where=sa.text('seq IS NULL'), postgresql_where=sa.text('seq IS NULL'))
        batch_op.drop_index('ix_tip_seq')
        batch_op.drop_index('ix_tip_open', sqlite_where=sa.text("status = 'open' AND deleted_at IS NULL"), postgresql_where=sa.text("status = 'open' AND deleted_at IS NULL"))
        batch_op.drop_index(batch_op.f('ix_tip_house_id'))
        batch_op.drop_index(batch_op.f('ix_tip_created_at'))

    op.drop_table('tip')
    with op.batch_alter_table('rate_counter', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_counter_window_start')

    op.drop_table('rate_counter')
