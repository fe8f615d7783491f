"""Words for the statistics: chart titles and the label of each bar's key."""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.oversight.statistics import UNKNOWN, Figure
from webapp.templating import label, lang
from webapp.validation import area_name

CHART_TITLES: dict[str, Callable[[], str]] = {
    "category": lambda: _("Residents by category"), "sex": lambda: _("Residents by sex"),
    "age": lambda: _("Residents by age"), "pyramid": lambda: _("Population pyramid"),
    "province": lambda: _("Migrants (来沪) by province of origin"), "permits": lambda: _("Residence permits"),
    "use": lambda: _("Houses by use"), "unit_kind": lambda: _("Units by kind"),
    "unit_employees": lambda: _("Units' employees by kind of unit"),
    "findings": lambda: _("Group renting (群租) and 人户分离"), "trend": lambda: _("Residents over the cycles"),
}
VOCABULARY = {"category": "category", "sex": "sex", "use": "use", "unit_kind": "unit_kind",
              "unit_employees": "unit_kind"}
WORDS = {
    "expired": _l("expired"), "due": _l("expiring soon"), "later": _l("valid"),
    "group_rent_flagged": _l("houses flagged as group renting"),
    "separated_recorded": _l("residents recorded as 人户分离"),
}


def key_label(chart: str, key: str) -> str:
    if key == UNKNOWN:
        return _("unknown")
    if chart in VOCABULARY:
        return label(key, VOCABULARY[chart])
    if chart in ("age", "pyramid"):
        band = key.split(":", 1)[-1]
        if ":" in key:
            return f"{label(key.split(':')[0], 'sex')} {key_label('age', band)}"
        return (band.replace("-", "–") + "岁") if lang() == "zh" else band.replace("-", "–")
    if chart == "province":
        name = area_name(key + "0000")
        return f"{name} ({key})" if name else key
    if key in WORDS:
        return str(WORDS[key])
    return key


def labelled(figure: Figure) -> list[tuple[str, str, int]]:
    return [(k, key_label(figure.key, k), v) for k, v in figure.rows]
