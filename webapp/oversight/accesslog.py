"""gunicorn's access log without the numbers people type: gunicorn.conf.py's `logger_class`.

An access line holds the request's address and its referrer, and an address can carry what
was typed into a form sent by GET: an ID or phone number in a search (PIPL: sensitive personal
information, kept no longer and by no more people than the work needs). The log outlives the
page, is read by whoever runs the servers and is shipped to wherever logs go, so each line is
written with its queries read as the app reads them (`+` and `%xx` decoded) and every run of
six or more digits masked as the audit log masks a search (`mask_numbers`). Paths are left as
they are: the app's paths hold ids and codes, never a person's number.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

from webapp.validation import mask_numbers

# The atoms (and the environ's and request headers' own) that hold a query or a whole address.
QUERIES = frozenset({"q", "{query_string}e"})
ADDRESSES = frozenset({"r", "f", "{raw_uri}e", "{request_uri}e", "{http_referer}e", "{referer}i"})


class AccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name in QUERIES & atoms.keys():
            atoms[name] = masked_query(atoms[name])
        for name in ADDRESSES & atoms.keys():
            atoms[name] = masked_address(atoms[name])
        return atoms


def masked_query(query: Any) -> Any:
    return mask_numbers(unquote_plus(query)) if isinstance(query, str) and query else query


def masked_address(text: Any) -> Any:
    """"GET /search?q=310…&x=1 HTTP/1.1" or a referrer URL: the part after `?` masked (up
    to a space, where a request line goes on with its protocol)."""
    if not isinstance(text, str) or "?" not in text:
        return text
    head, _, rest = text.partition("?")
    query, space, tail = rest.partition(" ")
    return f"{head}?{masked_query(query)}{space}{tail}"
