"""person.claims_id_of: a phone's registration that carries the ID number of someone living
outside its cells is held for the centre (not merged into that person); the one-live-person-
per-number index leaves such held records out

Revision ID: h2_person_claims
Revises: g2_review_person_name
Create Date: 2026-12-04 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h2_person_claims'
down_revision = 'g2_review_person_name'
branch_labels = None
depends_on = None

_LIVE = "deleted_at IS NULL"
_LIVE_UNHELD = "deleted_at IS NULL AND claims_id_of IS NULL"


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claims_id_of', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_person_claims_id_of_person'), 'person', ['claims_id_of'], ['id'])
        batch_op.drop_index('uq_person_id_number_live')
        batch_op.create_index('uq_person_id_number_live', ['id_number'], unique=True,
                              sqlite_where=sa.text(_LIVE_UNHELD), postgresql_where=sa.text(_LIVE_UNHELD))


def downgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('uq_person_id_number_live')
        batch_op.create_index('uq_person_id_number_live', ['id_number'], unique=True,
                              sqlite_where=sa.text(_LIVE), postgresql_where=sa.text(_LIVE))
        batch_op.drop_constraint(batch_op.f('fk_person_claims_id_of_person'), type_='foreignkey')
        batch_op.drop_column('claims_id_of')
