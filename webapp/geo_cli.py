"""Command-line tasks for cells and cycles: `flask cells …`, `flask cycle …`.

Thin: parse, call `geo/`, print the report in Chinese and English, commit or roll back.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from geo.assign import AssignReport, assign_houses
from geo.cells import CellImportReport, export_cells, import_cells
from geo.settings import GeoSettings
from webapp import audit
from webapp.extensions import db
from webapp.models import Cycle, User

cells_cli = AppGroup("cells", help="Grid cells: GeoJSON import/export, house assignment (网格).")
cycle_cli = AppGroup("cycle", help="Collection cycles (采集周期).")

_LIST_MAX = 50  # lines per list printed; the rest is counted


def register(app: Flask) -> None:
    app.cli.add_command(cells_cli)
    app.cli.add_command(cycle_cli)


def _settings() -> GeoSettings:
    return GeoSettings.from_config(current_app.config)


def _user_id(username: str | None) -> int | None:
    if not username:
        return None
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"找不到用户 / unknown user: {username}")
    return user.id


@cells_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report only; write nothing.")
@click.option("--between-committees", is_flag=True, help="Also report gaps between neighbouring committees.")
@click.option("--no-assign", is_flag=True, help="Do not re-assign houses after boundaries change.")
@click.option("--by", "username", default=None, help="Username the changes are recorded under.")
def import_command(path: Path, dry_run: bool, between_committees: bool, no_assign: bool,
                   username: str | None) -> None:
    """Import cells from a GeoJSON FeatureCollection (导入网格)."""
    by = _user_id(username)
    report = import_cells(db.session, path.read_bytes(), by_user_id=by, dry_run=dry_run,
                          between_committees=between_committees, settings=_settings())
    _print_import(report)
    if not report.ok:
        db.session.rollback()
        raise click.ClickException(f"{len(report.errors)} 个错误，未导入任何数据 / error(s): nothing imported")
    if dry_run:
        db.session.rollback()
        click.echo("试运行，未写入 / dry run: nothing written")
        return
    audit.record("cells.import", "cell", None, file=path.name, created=len(report.created),
                 updated=len(report.updated), boundaries_changed=len(report.boundaries_changed))
    if report.boundaries_changed and not no_assign:
        click.echo("边界有变化，重新分配房屋 / boundaries changed: re-assigning houses")
        moved = assign_houses(db.session, by_user_id=by)
        _print_assign(moved)
        audit.record("cells.assign", "house", None, moved=len(moved.moved))
    db.session.commit()
    click.echo("已导入 / imported")


@cells_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
def export_command(path: str) -> None:
    """Export cells as GeoJSON (导出网格); "-" writes to standard output."""
    collection = export_cells(db.session)
    # One feature per line: readable, and a changed cell is a one-line diff.
    lines = ",\n".join(json.dumps(f, ensure_ascii=False) for f in collection["features"])
    text = f'{{"type": "FeatureCollection", "features": [\n{lines}\n]}}\n'

    db.session.rollback()
    if path == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as e:
        raise click.ClickException(f"无法写入 / cannot write {path}: {e.strerror}") from None
    click.echo(f"已导出 / exported: {path}", err=True)


@cells_cli.command("assign")
@click.option("--dry-run", is_flag=True, help="Report what would move; write nothing.")
@click.option("--by", "username", default=None, help="Username the changes are recorded under.")
def assign_command(dry_run: bool, username: str | None) -> None:
    """Place houses in cells by location (按位置分配房屋到网格)."""
    report = assign_houses(db.session, by_user_id=_user_id(username), dry_run=dry_run)
    _print_assign(report)
    if dry_run:
        db.session.rollback()
        return
    audit.record("cells.assign", "house", None, moved=len(report.moved))
    db.session.commit()


@cycle_cli.command("close")
@click.argument("name")
@click.option("--by", "username", default=None, help="Username recorded as closing it.")
@click.option("--early", is_flag=True, help="Close before the cycle's last day has passed (cannot be undone).")
def close_command(name: str, username: str | None, early: bool) -> None:
    """Close a cycle and freeze its coverage and grades (关闭周期并冻结覆盖与等级)."""
    from geo.coverage import cycle_coverage
    from webapp.oversight.grading import close_and_freeze, still_running
    from webapp.registry.rules.settings import RuleSettings
    from webapp.base.timeutil import local_today

    cycle = db.session.scalar(select(Cycle).where(Cycle.name == name))
    if cycle is None:
        raise click.ClickException(f"找不到周期 / no cycle named {name}")
    if cycle.is_closed:
        raise click.ClickException(f"周期已关闭 / cycle {name} is already closed")
    if still_running(cycle, local_today()) and not early:
        raise click.ClickException(f"周期至 {cycle.ends_on} 结束，之后才能关闭（确需提前请加 --early，关闭后不可撤销）/ "
                                   f"cycle {name} runs until {cycle.ends_on}; close it after that, or give --early "
                                   "(a close cannot be undone)")
    # The same close as the grading page's: coverage and grades freeze together.
    close_and_freeze(db.session, cycle, _user_id(username), today=local_today(),
                     settings=RuleSettings.from_config(current_app.config), geo_settings=_settings())
    audit.record("cycle.close", "cycle", cycle.id, name=name, grades=True)
    db.session.commit()
    total = cycle_coverage(db.session, cycle).total
    click.echo(f"周期 {name} 已关闭 / cycle closed: {total.cells} 个网格 cells, "
               f"{total.visited}/{total.houses} 户已走访 houses visited ({total.ratio:.0%})")


@cycle_cli.command("coverage")
@click.argument("name", required=False)
def coverage_command(name: str | None) -> None:
    """Print a cycle's coverage per committee (default: the current cycle)."""
    from geo.coverage import cycle_coverage, today_cycle

    cycle = (db.session.scalar(select(Cycle).where(Cycle.name == name)) if name
             else today_cycle(db.session, settings=_settings()))
    if cycle is None:
        raise click.ClickException(f"找不到周期 / no cycle named {name}")
    report = cycle_coverage(db.session, cycle, settings=_settings())
    db.session.commit()  # today_cycle may have created the cycle
    state = "已关闭 closed" if report.frozen else "进行中 open"
    click.echo(f"周期 cycle {cycle.name} ({cycle.starts_on} – {cycle.ends_on}, {state})")
    click.echo("居委会 committee | 户 houses | 已访 visited | 扫码 scanned | 存疑 unverified | 人 persons")
    for c in [*report.committees, report.total]:
        click.echo(f"{c.committee_name or '合计 total'} | {c.houses} | {c.visited} ({c.ratio:.0%}) | "
                   f"{c.visited_scanned} | {c.unverified} | {c.persons}")


def _lines(items: list[Any], fmt: Any) -> None:
    for item in items[:_LIST_MAX]:
        click.echo("  " + fmt(item))
    if len(items) > _LIST_MAX:
        click.echo(f"  … 另有 {len(items) - _LIST_MAX} 条 / {len(items) - _LIST_MAX} more")


def _print_import(r: CellImportReport) -> None:
    click.echo(f"要素 features: {r.features}; 新建 created: {len(r.created)}, 更新 updated: {len(r.updated)}, "
               f"未变 unchanged: {len(r.unchanged)}; 新居委会 new committees: {len(r.committees_created)}")
    for label, items in (("错误 errors", r.errors), ("提示 warnings", r.warnings)):
        if items:
            click.echo(f"{label}: {len(items)}")
            _lines(items, lambda i: f"[{i.where()}] {i.message_zh} / {i.message_en}")


def _print_assign(r: AssignReport) -> None:
    click.echo(f"检查 checked: {r.checked}; 移动 moved: {len(r.moved)}; 未定位 unplaced: {len(r.unplaced)}; "
               f"人工指定保留 kept manual: {len(r.kept_manual)}")
    if r.moved:
        click.echo("移动 moved:")
        _lines(r.moved, lambda m: f"{m.address}: {m.from_cell or '—'} → {m.to_cell}")
    if r.unplaced:
        click.echo("未定位 unplaced (无坐标 no_location / 在所有网格外 outside):")
        _lines(r.unplaced, lambda u: f"{u.address} [{u.cell or '—'}]: {u.reason}")
    if r.kept_manual:
        click.echo("人工指定，按位置应在别处 kept manual, location says otherwise:")
        _lines(r.kept_manual, lambda k: f"{k.address}: {k.cell or '—'} (位置 location: {k.by_location or '—'})")
