"""oversight (issue 19): record_version (every version of persons, houses and units, with
who, when and through which door; existing rows become their "baseline" version),
coordinator_snapshot (coordinators' figures frozen with their cycle), users.last_login_at,
an index on audit_log (action, at) for the /audit page; merges the heads h1 and h2

Revision ID: i1_oversight
Revises: h1_auth_sessions, h2_person_claims
Create Date: 2026-12-04 17:19:23

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base


# revision identifiers, used by Alembic.
revision = 'i1_oversight'
down_revision = ('h1_auth_sessions', 'h2_person_claims')
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coordinator_snapshot',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('cycle_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('created_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_coordinator_snapshot_cycle_id_cycle')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_coordinator_snapshot_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordinator_snapshot')),
    sa.UniqueConstraint('cycle_id', 'user_id', name=op.f('uq_coordinator_snapshot_cycle_id'))
    )
    with op.batch_alter_table('coordinator_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordinator_snapshot_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coordinator_snapshot_user_id'), ['user_id'], unique=False)

    op.create_table('record_version',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('record_type', sa.String(length=12), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('changed_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('door', sa.String(length=12), nullable=False),
    sa.Column('door_ref', sa.String(length=80), nullable=True),
    sa.Column('recorded_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('erased_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_record_version_changed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_version'))
    )
    with op.batch_alter_table('record_version', schema=None) as batch_op:
        batch_op.create_index('ix_record_version_record', ['record_type', 'record_id', 'version'], unique=False)
        batch_op.create_index('ix_record_version_user_at', ['changed_by_id', 'changed_at'], unique=False)

    # Not in batch mode: rebuilding audit_log on SQLite would drop its append-only triggers.
    op.create_index('ix_audit_log_action_at', 'audit_log', ['action', 'at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True))

    # What every person, house and unit looks like now is its first known version: the next
    # change then shows old -> new (a large register: one INSERT ... SELECT per table).
    from webapp.registry.changelog import baseline

    baseline(op.get_bind())


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')

    op.drop_index('ix_audit_log_action_at', table_name='audit_log')

    with op.batch_alter_table('record_version', schema=None) as batch_op:
        batch_op.drop_index('ix_record_version_user_at')
        batch_op.drop_index('ix_record_version_record')

    op.drop_table('record_version')
    with op.batch_alter_table('coordinator_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coordinator_snapshot_user_id'))
        batch_op.drop_index(batch_op.f('ix_coordinator_snapshot_cycle_id'))

    op.drop_table('coordinator_snapshot')
