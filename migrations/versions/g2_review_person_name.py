"""review.person_name: the person's name for the phones (after a move-out the person leaves
a phone's records, yet the lead must see who moved); filled for the reviews there are

Revision ID: g2_review_person_name
Revises: g1_person_edited
Create Date: 2026-11-27 06:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'g2_review_person_name'
down_revision = 'g1_person_edited'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_name', sa.String(length=64), nullable=True))
    # A new version under a new change number (the servers are stopped while migrating), so
    # phones that hold these reviews receive the name on their next pull.
    op.execute("UPDATE change_counter SET value = value + 1 WHERE id = 1 AND EXISTS (SELECT 1 FROM review)")
    op.execute("UPDATE review SET person_name = (SELECT name FROM person WHERE person.id = review.person_id "
               "AND person.purged_at IS NULL), version = version + 1, "
               "seq = (SELECT value FROM change_counter WHERE id = 1)")


def downgrade():
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_column('person_name')
