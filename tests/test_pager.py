"""The one pager of the console's paged lists (tasks, conflicts, reviews, reports): links to
the pages either side that keep the list's other query arguments."""
from __future__ import annotations

import re

import pytest
from flask import render_template_string


def _pager(app, page: int, pages: int, labels: str = "") -> str:  # type: ignore[no-untyped-def]
    with app.test_request_context("/"):
        return render_template_string(
            '{% from "_macros.html" import pager %}'
            "{{ pager('tasks.index', page, pages, {'status': 'open', 'cell': 'A 1'}" + labels + ") }}",
            page=page, pages=pages)


@pytest.mark.parametrize(("page", "want"), [(1, ["2"]), (2, ["1", "3"]), (3, ["2"])])
def test_links_either_side_keep_the_filters(app, page: int, want: list[str]) -> None:  # type: ignore[no-untyped-def]
    html = _pager(app, page, 3)
    assert f"<span>{page} / 3</span>" in html
    links = re.findall(r'href="([^"]+)"', html.replace("&amp;", "&"))
    assert sorted(re.search(r"page=(\d+)", u).group(1) for u in links) == want  # type: ignore[union-attr]
    assert all("status=open" in u and "cell=A+1" in u for u in links)


def test_one_page_has_no_pager_and_labels_can_be_the_lists_own(app) -> None:  # type: ignore[no-untyped-def]
    assert _pager(app, 1, 1).strip() == ""
    html = _pager(app, 2, 3, labels=', previous="Newer", next="Older"')
    assert ">Newer</a>" in html and ">Older</a>" in html
