"""Text a spreadsheet program must not run: the one guard every export writes through.

Excel, WPS and LibreOffice run a cell starting with = + - @ as a formula, and OWASP adds a
leading tab and carriage return (some programs strip them and then see the formula). Such
text is written with a leading apostrophe, which they show as text; an import takes the
apostrophe off again, so an export re-imports unchanged.
"""
from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(value: Any) -> Any:
    """`value`, with text that would start a formula kept as text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def read_back(text: str) -> str:
    """The text `as_text` guarded, as it was."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        return text[1:]
    return text
