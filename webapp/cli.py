"""Command-line tasks: `flask --app webapp <command>`."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import BinaryIO

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from webapp import geo_cli
from webapp.extensions import db
from webapp.base.dbsetup import refresh_statistics
from webapp.models import House, User
from webapp.models.enums import Role
from webapp.plates.cli import plates_cli


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(reset_password)
    app.cli.add_command(deactivate_user)
    app.cli.add_command(purge_tombstones)
    geo_cli.register(app)  # flask cells …, flask cycle …
    app.cli.add_command(demo_logins)
    app.cli.add_command(import_extract_cmd)
    app.cli.add_command(export_extract_cmd)
    app.cli.add_command(plates_cli)


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
    from webapp.auth.policy import describe, weaknesses
    from webapp.registry.demo import generate

    # The demo password must meet the policy like any other (it is exempt only from being
    # refused as published: it is the demo's own, and production refuses demo data).
    weak = weaknesses(current_app.config["DEMO_PASSWORD"], "")
    if weak:
        raise click.ClickException(f"DEMO_PASSWORD: {describe(weak, 'en')} / {describe(weak, 'zh')}")
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
    refresh_statistics(db.session)
    click.echo(", ".join(f"{table} {n}" for table, n in summary.counts.items()))


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "display_name", default=None)
@click.option("--committee", "committee_code", default=None,
              help="Committee code: required for committee and reporter logins; for a coordinator or grid lead, "
                   "the committee that manages it (/admin/users).")
@click.password_option()
def create_user(username: str, role: str, display_name: str | None, committee_code: str | None, password: str) -> None:
    """Create a login (the first centre login; the centre creates the others at /admin/users)."""
    from webapp.auth.passwords import hash_password, new_password_weaknesses
    from webapp.auth.policy import describe
    from webapp.models import Committee

    if db.session.scalar(select(User).where(User.username == username)):
        raise click.ClickException(f"user {username!r} exists")
    committee_id = None
    if committee_code is not None:
        committee_id = db.session.scalar(select(Committee.id).where(Committee.code == committee_code))
        if committee_id is None:
            raise click.ClickException(f"no committee with code {committee_code!r} / 没有该居委会")
    elif role in (Role.COMMITTEE, Role.REPORTER):
        raise click.ClickException("this role needs --committee / 该角色需要指定居委会")
    weak = new_password_weaknesses(password, username)
    if weak:
        raise click.ClickException(f"{describe(weak, 'en')} / {describe(weak, 'zh')}")
    user = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                role=role, committee_id=committee_id)
    db.session.add(user)
    db.session.flush()
    from webapp import audit

    audit.record("create_user", "user", user.id, username=username, role=role, via="cli",
                 committee=str(committee_id) if committee_id else None)  # never the password
    db.session.commit()
    click.echo(f"created {username} ({role})")


def _login(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username!r} / 没有该用户")
    return user


@click.command("reset-password")
@with_appcontext
@click.argument("username")
def reset_password(username: str) -> None:
    """Give a login a temporary password (printed once), to be changed at its next login;
    ends its console sessions."""
    from webapp import audit
    from webapp.auth.passwords import hash_password
    from webapp.oversight.accounts import set_password, temporary_password

    user = _login(username)
    password = temporary_password()
    set_password(db.session, user, hash_password(password), temporary=True)
    audit.record("password_reset", "user", user.id, username=user.username, via="cli")
    db.session.commit()
    click.echo(f"temporary password for {username} (shown once; changed at the next login) / 临时密码：{password}")


@click.command("deactivate-user")
@with_appcontext
@click.argument("username")
def deactivate_user(username: str) -> None:
    """Disable a login: ends its console sessions and revokes every phone's token."""
    from webapp import audit
    from webapp.oversight.accounts import deactivate

    user = _login(username)
    revoked = deactivate(db.session, user, by_user_id=None)
    audit.record("deactivate_user", "user", user.id, username=user.username, devices_revoked=revoked, via="cli")
    db.session.commit()
    click.echo(f"deactivated {username}; {revoked} phone token(s) revoked / 已停用，{revoked} 部手机的令牌已吊销")


# Retention days accepted: 0 (every tombstone now: the rows stay, so phones still learn of
# the deletions) to a century. A negative number is a mistake, and more days than a date
# can go back overflow.
RETENTION_DAYS = click.IntRange(0, 36500)


@click.command("purge-tombstones")
@with_appcontext
@click.option("--days", type=RETENTION_DAYS, default=None, help="Override TOMBSTONE_RETENTION_DAYS (0–36500).")
def purge_tombstones(days: int | None) -> None:
    """Erase personal data from tombstones older than the retention period (PIPL art. 47)."""
    from webapp.registry.retention import purge
    from webapp.base.timeutil import utcnow

    if days is not None:
        keep = days
    else:
        try:
            keep = RETENTION_DAYS.convert(current_app.config["TOMBSTONE_RETENTION_DAYS"], None, None)
        except click.BadParameter as e:
            raise click.ClickException(f"TOMBSTONE_RETENTION_DAYS: {e.message}") from None
    counts = purge(db.session, before=utcnow() - timedelta(days=keep))
    from webapp.oversight import jobs

    jobs.record_run(db.session, "purge-tombstones", **counts)  # the home warns when this stops
    db.session.commit()
    for table, n in counts.items():
        click.echo(f"{table}: {n} purged")


@click.command("import-extract")
@click.option("--houses", type=click.Path(exists=True, dir_okay=False))
@click.option("--units", type=click.Path(exists=True, dir_okay=False))
@click.option("--persons", type=click.Path(exists=True, dir_okay=False))
@click.option("--residencies", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--lang", default="zh", type=click.Choice(["zh", "en"]))
@with_appcontext
def import_extract_cmd(houses: str | None, units: str | None, persons: str | None, residencies: str | None,
                       dry_run: bool, lang: str) -> None:
    """Import the police registry's extract (CSV or XLSX); nothing is written if a row is bad."""
    from webapp.registry.extract import import_extract
    from webapp.registry.extract.limits import Capped, ExtractLimits

    files = {k: v for k, v in {"houses": houses, "units": units, "persons": persons,
                               "residencies": residencies}.items() if v}
    if not files:
        raise click.UsageError("give at least one of --houses, --units, --persons, --residencies")

    def progress(stage: str, done: int, total: int | None) -> None:
        click.echo(f"\r{stage:<20} {done:>9,}" + (f" / {total:,}" if total else ""), nl=False, err=True)

    limits = ExtractLimits.from_config(current_app.config)
    report = import_extract(db.session, {k: Capped(v, limits) for k, v in files.items()}, by_user_id=None,
                            dry_run=dry_run, progress=progress)
    click.echo("", err=True)
    if report.written:
        refresh_statistics(db.session)
    for line in report.summary_lines(lang):
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)


@click.command("export-extract")
@click.argument("shape", type=click.Choice(["houses", "units", "persons", "residencies"]))
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--mask-ids", is_flag=True, help="Mask personal fields as the police's console does (for sharing outside the centre).")
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@with_appcontext
def export_extract_cmd(shape: str, path: str, mask_ids: bool, force: bool) -> None:
    """Export one shape of the registry in the extract's columns (CSV or XLSX by extension).

    The file is readable by its owner only (mode 0600): it holds full ID numbers."""
    from webapp.registry.extract import export_extract
    from webapp.base.timeutil import to_local, utcnow

    fmt = "xlsx" if path.lower().endswith(".xlsx") else "csv"
    note = f"Gridwalk 导出 export · CLI · {to_local(utcnow()):%Y-%m-%d %H:%M} Asia/Shanghai · {shape}"
    with _private_file(path, force) as out:
        rows = export_extract(db.session, shape, fmt, out, header_note=note, role=Role.POLICE if mask_ids else None)  # type: ignore[arg-type]
    from webapp import audit

    audit.record("export_extract", "extract", None, shape=shape, fmt=fmt, rows=rows,
                 full_ids=not mask_ids, via="cli", path=path)
    db.session.commit()
    click.echo(f"{rows} rows → {path}")


@contextmanager
def _private_file(path: str, force: bool) -> Iterator[BinaryIO]:
    """A new file at `path` that only its owner may read (mode 0600, whatever the umask).

    An existing file is refused unless `force`; then the export is written beside it and
    replaces it whole once complete. A failed export leaves nothing behind."""
    try:
        if force:
            fd, written = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                                           prefix=".gridwalk-export-")  # mode 0600
        else:
            written = path
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0), 0o600)
    except FileExistsError:
        raise click.ClickException(f"{path} exists: give --force to replace it / 文件已存在，加 --force 覆盖") from None
    except OSError as e:
        raise click.ClickException(f"cannot write {path}: {e.strerror} / 无法写入该文件") from None
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        if force:
            os.replace(written, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(written)
        raise


@click.command("demo-logins")
@with_appcontext
def demo_logins() -> None:
    """Print the demo logins, one line per role (only where demo data is allowed)."""
    if not current_app.config["ALLOW_DEMO_DATA"]:
        return
    click.echo(f"  Demo logins (password: {current_app.config['DEMO_PASSWORD']}):")
    for role in Role:
        names = db.session.scalars(
            select(User.username).where(User.role == role.value).order_by(User.username)
        ).all()
        if names:
            shown = ", ".join(names[:3]) + (f" … ({len(names)})" if len(names) > 3 else "")
            click.echo(f"    {role.label('zh')} / {role.label('en')}: {shown}")
