"""`flask plates assign`: give a plate code to every house that has none."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp import audit
from webapp.extensions import db
from webapp.models import Cell, House
from webapp.registry.plates import assign_plates

plates_cli = AppGroup("plates", help="House-code QR plates.")


@plates_cli.command("assign")
@click.option("--cell", "cell_code", default=None, help="Only the houses of this cell (its code).")
@click.option("--dry-run", is_flag=True, help="Say how many codes would be assigned; write nothing.")
def assign(cell_code: str | None, dry_run: bool) -> None:
    """Assign plate codes to houses lacking one (deterministic: derived from each house's id)."""
    where = None
    if cell_code is not None:
        cell_id = db.session.scalar(select(Cell.id).where(Cell.code == cell_code, Cell.deleted_at.is_(None)))
        if cell_id is None:
            raise click.ClickException(f"no cell with code {cell_code!r}")
        where = House.cell_id == cell_id
    assigned = assign_plates(db.session, where, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
        click.echo(f"{len(assigned)} plate codes would be assigned")
        return
    if assigned:
        audit.record("assign_plates", "cell" if cell_code else None, None, count=len(assigned), via="cli",
                     cell=cell_code)
    db.session.commit()
    click.echo(f"{len(assigned)} plate codes assigned")
