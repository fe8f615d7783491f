"""Command-line tasks: `flask --app webapp <command>`."""
from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import House, User
from webapp.models.enums import Role


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(purge_tombstones)


@click.command("seed-demo")
@with_appcontext
@click.option("--scale", default=1.0, show_default=True, help="1 = one subdistrict; 40 ≈ a district.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the registry already holds houses.")
def seed_demo(scale: float, if_empty: bool) -> None:
    """Create the demo subdistrict and its demo logins (never in production)."""
    if not current_app.config["ALLOW_DEMO_DATA"]:
        raise click.ClickException("demo data is refused by this configuration (ALLOW_DEMO_DATA is off)")
    if if_empty and db.session.scalar(select(func.count()).select_from(House)):
        click.echo("Registry already holds data: demo seed skipped.")
        return
    from webapp.auth.passwords import hash_password
    from webapp.registry.demo import generate

    with click.progressbar(length=100, label="Generating demo subdistrict") as bar:
        last = {"pct": 0}

        def progress(stage: str, done: int, total: int) -> None:
            pct = int(100 * done / total) if total else 100
            bar.label = f"{stage:<12}"
            bar.update(max(0, pct - last["pct"]))
            last["pct"] = pct if pct < 100 else 0

        summary = generate(db.session, scale=scale,
                           password_hash=hash_password(current_app.config["DEMO_PASSWORD"]),
                           progress=progress)
    db.session.commit()
    click.echo(", ".join(f"{table} {n}" for table, n in summary.counts.items()))


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "display_name", default=None)
@click.password_option()
def create_user(username: str, role: str, display_name: str | None, password: str) -> None:
    """Create a login (the centre creates the others in production)."""
    from webapp.auth.passwords import hash_password

    if db.session.scalar(select(User).where(User.username == username)):
        raise click.ClickException(f"user {username!r} exists")
    db.session.add(User(username=username, display_name=display_name or username,
                        password_hash=hash_password(password), role=role))
    db.session.commit()
    click.echo(f"created {username} ({role})")


@click.command("purge-tombstones")
@with_appcontext
@click.option("--days", type=int, default=None, help="Override TOMBSTONE_RETENTION_DAYS.")
def purge_tombstones(days: int | None) -> None:
    """Erase personal data from tombstones older than the retention period (PIPL art. 47)."""
    from webapp.registry.retention import purge
    from webapp.timeutil import utcnow

    keep = days if days is not None else current_app.config["TOMBSTONE_RETENTION_DAYS"]
    counts = purge(db.session, before=utcnow() - timedelta(days=keep))
    db.session.commit()
    for table, n in counts.items():
        click.echo(f"{table}: {n} purged")
