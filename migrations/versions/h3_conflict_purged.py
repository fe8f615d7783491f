"""conflict.purged_at: the personal values a conflict copied (a phone's and the registry's)
are erased with their person's by the PIPL purge

Revision ID: h3_conflict_purged
Revises: h2_person_claims
Create Date: 2026-12-04 19:00:00

"""
from alembic import op
import sqlalchemy as sa

from webapp.models.base import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'h3_conflict_purged'
down_revision = 'h2_person_claims'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
