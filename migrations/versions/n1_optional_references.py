"""indexes on optional references to registry records (issue 17): a person that was deleted,
or rewritten whole, had every person read for one that claims its number (claims_id_of), as
the database checks each reference to it; the same for a unit's employees, a room's
residencies and a visit's closed tasks. Partial: most rows refer to nothing

Revision ID: n1_optional_references
Revises: m1_conflict_by_user
Create Date: 2026-12-05 14:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'n1_optional_references'
down_revision = 'm1_conflict_by_user'
branch_labels = None
depends_on = None

REFERENCES = (("person", "claims_id_of"), ("person", "employer_unit_id"), ("residency", "room_id"),
              ("task", "closed_visit_id"))


def upgrade():
    for table, column in REFERENCES:
        where = sa.text(f"{column} IS NOT NULL")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_{column}", [column], unique=False,
                                  sqlite_where=where, postgresql_where=where)


def downgrade():
    for table, column in reversed(REFERENCES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_{column}")
