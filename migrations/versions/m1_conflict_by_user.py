"""conflicts and cells by user (issue 17): every pull reads its user's conflicts newest first,
and without an index on user_id that walked every conflict the district ever had; every push
and pull reads its coordinator's cells, and cell_coordinator's primary key starts with the cell

Revision ID: m1_conflict_by_user
Revises: l1_tip_becomes_task
Create Date: 2026-12-05 02:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'm1_conflict_by_user'
down_revision = 'l1_tip_becomes_task'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.create_index('ix_conflict_user_created', ['user_id', 'created_at'], unique=False)
    with op.batch_alter_table('cell_coordinator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cell_coordinator_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('cell_coordinator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cell_coordinator_user_id'))
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.drop_index('ix_conflict_user_created')
