"""tasks: assignee, due date, escalation, closing visit, reporter on tip

Revision ID: e1_tasks
Revises: d6_rules_grading
Create Date: 2026-11-26 20:58:59.298144

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base


# revision identifiers, used by Alembic.
revision = 'e1_tasks'
down_revision = 'd6_rules_grading'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', webapp.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_visit_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('reporter_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('origin_key', sa.String(length=80), nullable=True))
        batch_op.create_index('ix_tip_open_due', ['due_on'], unique=False, sqlite_where=sa.text("status = 'open' AND deleted_at IS NULL"), postgresql_where=sa.text("status = 'open' AND deleted_at IS NULL"))
        batch_op.create_index(batch_op.f('ix_tip_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index('uq_tip_origin_key', ['origin_key'], unique=True, sqlite_where=sa.text('origin_key IS NOT NULL'), postgresql_where=sa.text('origin_key IS NOT NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_tip_closed_visit_id_visit'), 'visit', ['closed_visit_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_tip_assignee_id_users'), 'users', ['assignee_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_tip_reporter_id_users'), 'users', ['reporter_id'], ['id'])



def downgrade():
    with op.batch_alter_table('tip', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tip_reporter_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_tip_assignee_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_tip_closed_visit_id_visit'), type_='foreignkey')
        batch_op.drop_index('uq_tip_origin_key', sqlite_where=sa.text('origin_key IS NOT NULL'), postgresql_where=sa.text('origin_key IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_tip_reporter_id'))
        batch_op.drop_index('ix_tip_open_due', sqlite_where=sa.text("status = 'open' AND deleted_at IS NULL"), postgresql_where=sa.text("status = 'open' AND deleted_at IS NULL"))
        batch_op.drop_column('origin_key')
        batch_op.drop_column('reporter_id')
        batch_op.drop_column('closed_visit_id')
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('due_on')
        batch_op.drop_column('assignee_id')
        batch_op.drop_column('result')

