"""/statistics: per committee or cell and collection cycle. Thin: parse (filters, cycle),
ask webapp.oversight.statistics, draw with webapp.oversight.charts, render; exports audited;
the residents behind a bar masked by the privacy policy and audited like a list of persons."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp import audit
from webapp.access import current_scope, requires
from webapp.base.dbsetup import writes_on_get
from webapp.extensions import db
from webapp.models import Cycle
from webapp.oversight import charts
from webapp.oversight.statistics import PERSON_CHARTS, Statistics, compute, drill
from webapp.registry import privacy
from webapp.reports.common import filters, send_export
from webapp.reports.grading_views import _choices, _cycle
from webapp.statistics import bp
from webapp.statistics.labels import CHART_TITLES, key_label, labelled
from webapp.base.timeutil import local_today
from webapp.query_args import page_number

TREND_CYCLES = 12
PAGE_SIZE = 100


def _statistics() -> tuple[Statistics, Any, Cycle]:
    f = filters()
    cycle = _cycle()
    today = local_today()
    recent = list(db.session.scalars(select(Cycle).where(Cycle.starts_on <= today)
                                     .order_by(Cycle.starts_on.desc()).limit(TREND_CYCLES)))
    stats = compute(db.session, min(cycle.ends_on, today), f.cell_ids, today=today,
                    permit_warn_days=current_app.config["PERMIT_EXPIRY_WARN_DAYS"], cycles=recent, cycle=cycle)
    return stats, f, cycle


def _bar_charts(stats: Statistics) -> dict[str, charts.BarChart]:
    # Provinces have long names and the findings' labels are sentences: wider label columns.
    wide = {"findings": (560, 260), "province": (480, 170)}
    return {key: charts.bars(key, labelled(fig), *wide.get(key, (charts.WIDTH, charts.LABEL_W)))
            for key, fig in stats.figures.items()}


@bp.route("")
@requires("see_statistics")
def index() -> Any:
    stats, f, cycle = _statistics()
    pyramid = charts.pyramid(stats.pyramid.bands, stats.pyramid.male, stats.pyramid.female) if stats.pyramid else None
    trend = None
    if stats.trend and stats.trend.cycles:
        trend = charts.lines(stats.trend.cycles, [(k, key_label("category", k), v)
                                                  for k, v in stats.trend.series.items()])

    def drill_url(chart: str) -> Any:
        if chart not in PERSON_CHARTS:
            return None
        return lambda key: url_for("statistics.persons", chart=chart, key=key, cycle=cycle.id, **f.args())

    return render_template("statistics/index.html", stats=stats, filters=f, cycle=cycle, cycles=_choices(cycle),
                           bars=_bar_charts(stats), pyramid=pyramid, trend=trend, titles=CHART_TITLES,
                           drill_url=drill_url, key_label=key_label)


def _table(stats: Statistics, chart: str) -> tuple[list[str], list[list[Any]]]:
    if chart == "pyramid" and stats.pyramid:
        p = stats.pyramid
        return ([_("Age"), key_label("sex", "M"), key_label("sex", "F")],
                [[key_label("age", b), m, w] for b, m, w in zip(p.bands, p.male, p.female, strict=True)])
    if chart == "trend" and stats.trend:
        t = stats.trend
        return ([_("Cycle"), *(key_label("category", k) for k in t.series)],
                [[name, *(t.series[k][i] for k in t.series)] for i, name in enumerate(t.cycles)])
    figure = stats.figures.get(chart)
    if figure is None:
        abort(404)
    return [_("Group"), _("Count")], [[label, value] for _k, label, value in labelled(figure)]


@bp.route("/export/<chart>.<fmt>")
@requires("see_statistics")
@writes_on_get
def export(chart: str, fmt: str) -> Any:
    if chart not in CHART_TITLES:
        abort(404)
    stats, f, cycle = _statistics()
    title = f"{CHART_TITLES[chart]()} · {cycle.name} · {stats.as_of.isoformat()}"
    return send_export(fmt, title, f"statistics-{chart}", [(str(CHART_TITLES[chart]()), _table(stats, chart))],
                       action="export_statistics", chart=chart, cycle=cycle.name, filters=f.describe())


@bp.route("/persons")
@requires("see_statistics")
@writes_on_get
def persons() -> Any:
    """The residents behind one bar of a persons' chart, as the role may see them."""
    chart, key = request.args.get("chart", ""), request.args.get("key", "")
    f = filters()
    cycle = _cycle()
    as_of = min(cycle.ends_on, local_today())
    page = page_number()
    found = drill(db.session, chart, key, as_of, f.cell_ids,
                  permit_warn_days=current_app.config["PERMIT_EXPIRY_WARN_DAYS"],
                  offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if found is None:
        abort(404)
    people, total = found
    role = current_scope().role
    # A list of persons is a look at each of them (PIPL art. 56), with what the role saw in clear.
    audit.record("statistics_persons", "person", None, chart=chart, key=key, cycle=cycle.name,
                 persons=[str(p.id) for p in people], filters=f.describe(),
                 clear=sorted(n for n in ("id_number", "birth_date") if privacy.clear(role, "person", n)))
    db.session.commit()
    g.no_store = True
    args = {"chart": chart, "key": key, "cycle": str(cycle.id), **f.args()}
    return render_template("statistics/persons.html", people=people, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), args=args, chart=chart,
                           title=f"{CHART_TITLES[chart]()} · {key_label(chart, key)}", cycle=cycle, as_of=as_of,
                           back=url_for("statistics.index", cycle=cycle.id, **f.args()) + f"#chart-{chart}")
