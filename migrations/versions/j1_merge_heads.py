"""joins the oversight branch (i1) and the sync branch (h3, h4) into one head

Revision ID: j1_merge_heads
Revises: i1_oversight, h4_sync_seq_bigint
Create Date: 2026-12-04 19:00:00

"""

# revision identifiers, used by Alembic.
revision = 'j1_merge_heads'
down_revision = ('i1_oversight', 'h4_sync_seq_bigint')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
