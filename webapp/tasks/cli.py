"""`flask tasks generate` and `flask tasks escalate`: daily, from a cron (both idempotent)."""
from __future__ import annotations

import click
from flask import current_app

from geo.settings import GeoSettings
from webapp import audit
from webapp.extensions import db
from webapp.oversight import jobs
from webapp.registry.rules import RuleSettings
from webapp.oversight.tasks import TaskSettings, escalate, fill_defaults, generate
from webapp.base.timeutil import local_today
from webapp.tasks import bp


@bp.cli.command("generate")
def generate_command() -> None:
    """Tasks for permits due and for houses unvisited late in the cycle (none made twice)."""
    cfg = current_app.config
    made = generate(db.session, TaskSettings.from_config(cfg), local_today(),
                    rules=RuleSettings.from_config(cfg), geo=GeoSettings.from_config(cfg))
    audit.record("generate_tasks", "task", None, permits=made.permits, unvisited=made.unvisited, filled=made.filled)
    db.session.commit()
    click.echo(f"permits: {made.permits}, unvisited: {made.unvisited}, defaults filled: {made.filled}")


@bp.cli.command("escalate")
def escalate_command() -> None:
    """Mark open tasks past their due date as escalated (each once, audited)."""
    fill_defaults(db.session, TaskSettings.from_config(current_app.config))
    tasks = escalate(db.session, local_today())
    for task in tasks:
        audit.record("escalate_task", "task", task.id, due_on=task.due_on.isoformat() if task.due_on else None,
                     cell_id=str(task.cell_id) if task.cell_id else None)
    jobs.record_run(db.session, "tasks-escalate", escalated=len(tasks))  # the home warns when this stops
    db.session.commit()
    click.echo(f"escalated: {len(tasks)}")
