"""The access log's masking of typed numbers (webapp/oversight/accesslog.py); gunicorn writing
it for real: tests/test_serve.py."""
from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest

from webapp.oversight.accesslog import masked_address, masked_query

FULL_WIDTH_ID = "３１０１１０１９９００１０１１２３４"  # typed with a Chinese IME's full-width digits


@pytest.mark.parametrize("query, kept, gone", [
    ("q=" + quote_plus("310110199001011234"), "q=310***********1234", "199001"),
    ("q=" + quote_plus("138 1234 5678"), "q=1********78", "1234"),
    ("q=" + quote("138-1234-5678"), "q=1********78", "1234"),
    ("q=" + quote(FULL_WIDTH_ID), "q=３１０***********１２３４", "１９９０"),
    ("q=" + quote_plus("王小明") + "&page=2", "q=王小明&page=2", "%"),  # names and pages stay readable
    ("cursor=abc&limit=500", "cursor=abc&limit=500", "%"),
])
def test_a_query_is_read_as_the_app_reads_it_and_its_numbers_masked(query: str, kept: str, gone: str) -> None:
    assert masked_query(query) == kept and gone not in masked_query(query)


def test_a_request_line_keeps_its_method_path_and_protocol() -> None:
    line = "GET /search?q=" + quote_plus("13812345678") + " HTTP/1.1"
    assert masked_address(line) == "GET /search?q=1********78 HTTP/1.1"
    referrer = "https://gridwalk.example.lan/search?q=310110199001011234"
    assert masked_address(referrer) == "https://gridwalk.example.lan/search?q=310***********1234"
    # Paths hold the app's ids and codes, never a person's number: left as they are.
    assert masked_address("GET /houses/0190b2c4-1234-7abc-8def-123456789012 HTTP/1.1").endswith("123456789012 HTTP/1.1")
    assert masked_address("-") == "-" and masked_query("") == ""
