"""each coordinator's visits in time order (figure 4): the coverage's judge needs every visit's
predecessor by the same coordinator; read from an index on (user_id, visited_at, id) they come
in that order, and the cycle's ~40,000 visits are not sorted on every coverage page. Replaces
the index on user_id alone, which it begins with.

Revision ID: o1_visit_user_at
Revises: n1_optional_references
Create Date: 2026-12-06 00:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'o1_visit_user_at'
down_revision = 'n1_optional_references'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_visit_user_at', 'visit', ['user_id', 'visited_at', 'id'], unique=False)
    op.drop_index('ix_visit_user_id', table_name='visit')


def downgrade():
    op.create_index('ix_visit_user_id', 'visit', ['user_id'], unique=False)
    op.drop_index('ix_visit_user_at', table_name='visit')
