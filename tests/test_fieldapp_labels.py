"""The field app's labels for the task and review vocabularies (static/pwa/i18n.js) say what the server's
enums say, in both languages: a phone never shows a task source or result differently."""
from __future__ import annotations

import json
import re

import pytest

from config import BASE_DIR
from webapp.models import enums
from webapp.validation import IdType

I18N = (BASE_DIR / "static" / "pwa" / "i18n.js").read_text(encoding="utf-8")


def _group(name: str) -> dict[str, tuple[str, str]]:
    block = re.search(rf"^  {name}: \{{(.*?)\}},$", I18N, re.S | re.M)
    assert block, f"no {name} labels in i18n.js"
    pairs = re.findall(r'(\w+): \["([^"]*)", "([^"]*)"\]', block.group(1))
    return {key: (zh, en) for key, zh, en in pairs}


@pytest.mark.parametrize("group, enum", [
    ("task_source", enums.TaskSource), ("task_kind", enums.TaskKind), ("task_result", enums.TaskResult),
    ("review_status", enums.ReviewStatus), ("review_kind", enums.ReviewKind),
    ("outcome", enums.VisitOutcome), ("flag", enums.HouseFlagKind), ("category", enums.PersonCategory),
    ("relation", enums.Relation), ("unit_kind", enums.UnitKind), ("sex", enums.Sex),
])
def test_phone_labels_match_the_enums(group: str, enum: type[enums.Labelled]) -> None:
    assert _group(group) == {k: tuple(v) for k, v in enum.labels().items()}, json.dumps(enum.labels(), ensure_ascii=False)


def test_phone_id_types_match_the_validation_module() -> None:
    """ID-type names lived in three places (validation, console form, phone) and had drifted."""
    assert _group("id_type") == {t.value: (t.label("zh"), t.label("en")) for t in IdType}
    assert IdType.choices("en") == [(t.value, t.label("en")) for t in IdType]
