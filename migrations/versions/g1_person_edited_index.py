"""person: the coverage's "changed" figure reads a partial index of edited persons
(ix_person_edited, version > 1) instead of an index of every person's changed_at; joins the
campaigns and review branches

Revision ID: g1_person_edited
Revises: f1_campaigns, f2_review
Create Date: 2026-11-27 06:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'g1_person_edited'
down_revision = ('f1_campaigns', 'f2_review')
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_changed_at')
        batch_op.create_index('ix_person_edited', ['changed_at'], unique=False,
                              sqlite_where=sa.text('version > 1'), postgresql_where=sa.text('version > 1'))


def downgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_edited', sqlite_where=sa.text('version > 1'),
                            postgresql_where=sa.text('version > 1'))
        batch_op.create_index('ix_person_changed_at', ['changed_at'], unique=False)
