"""device.last_seq and sync_mutation.device_seq as 64-bit integers: a phone may number its
mutations up to 2^53 - 1 (e.g. by Date.now()); at 2^31 a whole batch used to be refused

Revision ID: h4_sync_seq_bigint
Revises: h3_conflict_purged
Create Date: 2026-12-04 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h4_sync_seq_bigint'
down_revision = 'h3_conflict_purged'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.alter_column('last_seq', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)
    with op.batch_alter_table('sync_mutation', schema=None) as batch_op:
        batch_op.alter_column('device_seq', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('sync_mutation', schema=None) as batch_op:
        batch_op.alter_column('device_seq', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.alter_column('last_seq', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
