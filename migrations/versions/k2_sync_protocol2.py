"""protocol 2: a receipt keeps the version its applied mutation made (no echo), and the day
this server first spoke protocol 2 (protocol 1 stays served PROTOCOL_PREVIOUS_DAYS from it);
held persons indexed by ID number (a push looked up its numbers by a scan of every person)

Revision ID: k2_sync_protocol2
Revises: k1_registry_in_full
Create Date: 2026-12-04 19:00:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import webapp.models.base


# revision identifiers, used by Alembic.
revision = 'k2_sync_protocol2'
down_revision = 'k1_registry_in_full'  # after issue 18's registry migration: one head
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_mutation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=True))
    table = op.create_table(
        'sync_protocol',
        sa.Column('protocol', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('since', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('protocol', name=op.f('pk_sync_protocol')),
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index('ix_person_id_number_held', ['id_number'], unique=False,
                              sqlite_where=sa.text('deleted_at IS NULL AND claims_id_of IS NOT NULL'),
                              postgresql_where=sa.text('deleted_at IS NULL AND claims_id_of IS NOT NULL'))
    # The upgrade is the day the server starts speaking 2: the old app's grace starts here.
    op.bulk_insert(table, [{'protocol': 2, 'since': datetime.now(timezone.utc)}])


def downgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_id_number_held')
    op.drop_table('sync_protocol')
    with op.batch_alter_table('sync_mutation', schema=None) as batch_op:
        batch_op.drop_column('version')
