"""tip becomes task (issue 20): one name per idea. The table `tip` is renamed `task`, with
its indexes and constraints; every stored type string that named it (sync receipts,
conflicts and their kinds, record aliases, scope changes, the change log, rate-limit keys,
the frozen figures' keys) says task. Not the audit log: it is append-only evidence and keeps
the names its rows were written with (`tip`, `close_tip`...); the console reads those as
today's (webapp/oversight/auditlog.py, FORMER_NAMES).

Revision ID: l1_tip_becomes_task
Revises: k3_unit_figures
Create Date: 2026-12-04 23:00:00

"""
import json
import re

from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'l1_tip_becomes_task'
down_revision = 'k3_unit_figures'  # after the unit figures: one head
branch_labels = None
depends_on = None

# Columns that hold a record type.
TYPE_COLUMNS = (('sync_mutation', 'record_type'), ('conflict', 'record_type'), ('record_alias', 'record_type'),
                ('scope_change', 'record_type'), ('record_version', 'record_type'))
# Conflict kinds (error codes) that carried the name.
CODES = (('tip.result', 'task.result'), ('tip.visit_house', 'task.visit_house'))
# Keys of the frozen figures (coverage, grades, coordinators' work).
FIGURE_KEYS = (('open_tips', 'open_tasks'), ('tips', 'tasks'))
SNAPSHOTS = ('coverage_snapshot', 'grade_snapshot', 'coordinator_snapshot')


def upgrade():
    _rename(old='tip', new='task', codes=CODES, keys=dict(FIGURE_KEYS))


def downgrade():
    _rename(old='task', new='tip', codes=tuple((b, a) for a, b in CODES), keys={b: a for a, b in FIGURE_KEYS})


def _renamed(name, old, new):
    return re.sub(rf'(?<![a-z]){old}(?![a-z])', new, name)


def _rename(old, new, codes, keys):
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == 'postgresql':
        _rename_table_postgresql(bind, old, new)
    else:
        _rename_table_sqlite(bind, old, new)
    for table, column in TYPE_COLUMNS:
        op.execute(sa.text(f'UPDATE {table} SET {column} = :new WHERE {column} = :old').bindparams(new=new, old=old))
    for before, after in codes:
        op.execute(sa.text('UPDATE conflict SET kind = :after WHERE kind = :before').bindparams(after=after, before=before))
    _rewrite_receipts(bind, old, new)
    # Rate-limit keys "tip:ip:<hash>" and "tip:house:<id>": the windows under way keep counting.
    op.execute(sa.text("UPDATE rate_counter SET key = :new || substr(key, :cut) WHERE key LIKE :like")
               .bindparams(new=f'{new}:', cut=len(old) + 2, like=f'{old}:%'))
    _rewrite_figures(bind, keys)


def _rename_table_postgresql(bind, old, new):
    inspector = sa.inspect(bind)
    constraints = [fk['name'] for fk in inspector.get_foreign_keys(old)]
    constraints.append(inspector.get_pk_constraint(old)['name'])
    constraints += [u['name'] for u in inspector.get_unique_constraints(old)]
    constraints += [c['name'] for c in inspector.get_check_constraints(old)]
    # An index behind a constraint is renamed with it.
    indexes = [i['name'] for i in inspector.get_indexes(old) if not i.get('duplicates_constraint')]
    op.rename_table(old, new)
    for name in constraints:
        if name and _renamed(name, old, new) != name:
            op.execute(f'ALTER TABLE {new} RENAME CONSTRAINT {name} TO {_renamed(name, old, new)}')
    for name in indexes:
        if name and _renamed(name, old, new) != name:
            op.execute(f'ALTER INDEX {name} RENAME TO {_renamed(name, old, new)}')


def _rename_table_sqlite(bind, old, new):
    # SQLite renames no index or named constraint: the foreign keys are made again under their
    # new names by a batch copy, then the indexes (partial ones too) from their own SQL.
    indexes = bind.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
                                   "AND sql IS NOT NULL"), {'t': old}).all()
    foreign_keys = [fk for fk in sa.inspect(bind).get_foreign_keys(old) if fk['name']]
    for name, _ in indexes:
        op.execute(f'DROP INDEX {name}')
    op.rename_table(old, new)
    with op.batch_alter_table(new, recreate='always') as batch_op:
        for fk in foreign_keys:
            batch_op.drop_constraint(fk['name'], type_='foreignkey')
            batch_op.create_foreign_key(_renamed(fk['name'], old, new), fk['referred_table'],
                                        fk['constrained_columns'], fk['referred_columns'])
    for name, sql in indexes:
        sql = re.sub(rf'\bON\s+"?{old}"?\s*\(', f'ON {new} (', sql, count=1, flags=re.IGNORECASE)
        op.execute(sql.replace(name, _renamed(name, old, new), 1))


def _rewrite_receipts(bind, old, new):
    """Error codes kept in receipts (what a repeated mutation is told again)."""
    receipts = sa.table('sync_mutation', sa.column('id', sa.Uuid()), sa.column('detail', sa.JSON()),
                        sa.column('record_type', sa.String()))
    for rid, detail in bind.execute(sa.select(receipts.c.id, receipts.c.detail).where(receipts.c.record_type == new)):
        text = json.dumps(detail)
        changed = text.replace(f'"{old}.result"', f'"{new}.result"').replace(f'"{old}.visit_house"', f'"{new}.visit_house"')
        if changed != text:
            bind.execute(receipts.update().where(receipts.c.id == rid).values(detail=json.loads(changed)))


def _rewrite_figures(bind, keys):
    def renamed(value):
        if isinstance(value, dict):
            return {keys.get(k, k): renamed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [renamed(v) for v in value]
        return value

    for name in SNAPSHOTS:
        snapshots = sa.table(name, sa.column('id', sa.Uuid()), sa.column('figures', sa.JSON()))
        for sid, figures in bind.execute(sa.select(snapshots.c.id, snapshots.c.figures)).all():
            if figures and renamed(figures) != figures:
                bind.execute(snapshots.update().where(snapshots.c.id == sid).values(figures=renamed(figures)))
