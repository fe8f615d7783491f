"""sessions and logins (issue 15, point 9): users.session_generation, must_change_password and
password_changed_at; login_failure (failures per account and client network, growing delays)
replaces the per-account hard lock-out (users.failed_logins, users.locked_until)

Revision ID: h1_auth_sessions
Revises: g2_review_person_name
Create Date: 2026-11-28 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import webapp.models.base


# revision identifiers, used by Alembic.
revision = 'h1_auth_sessions'
down_revision = 'g2_review_person_name'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_failure',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', webapp.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', webapp.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_last_failure_at'), ['last_failure_at'], unique=False)

    # Server defaults fill the rows there are; the models set the values from then on.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('password_changed_at', webapp.models.base.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', webapp.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('session_generation')

    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_last_failure_at'))

    op.drop_table('login_failure')
