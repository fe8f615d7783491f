"""Reading a shape's file: CSV (UTF-8 or GB18030, comma or tab) or an XLSX sheet, as rows of cells.

Every file is read under caps (`limits`): rows for both, and for an XLSX what it expands to
(`xlsx_guard`). A file over a cap, or in neither encoding, is a problem of the whole file.
"""
from __future__ import annotations

import codecs
import csv
import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

from webapp.registry.extract.limits import Capped, ExtractLimits, Refusal, default_limits, too_many_rows
from webapp.registry.extract.report import _ferr
from webapp.registry.extract.spec import COMMENT, NOTE_SHEET, Shape
from webapp.validation import FieldError

# A path, an open file, or an upload (werkzeug FileStorage: read via .stream, named by .filename),
# bare or `Capped` with the caller's limits.
ExtractSource = Path | str | IO[bytes] | IO[str] | Any
_XLSX_MAGIC = b"PK\x03\x04"


class _FileProblem(Exception):
    def __init__(self, line: int, error: FieldError) -> None:
        super().__init__(error.en)
        self.line, self.error = line, error


@contextmanager
def _binary(source: ExtractSource) -> Iterator[tuple[IO[bytes] | IO[str], str]]:
    """A seekable stream and a name (for the format) for a path, an IO or an upload."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as fh:
            yield fh, str(source)
        return
    name = getattr(source, "filename", None) or getattr(source, "name", None) or ""
    stream = getattr(source, "stream", source)
    if isinstance(stream, io.TextIOBase) or stream.seekable():
        yield stream, str(name)
        return
    # Uploads may not seek; encoding detection and openpyxl both need to.
    with tempfile.SpooledTemporaryFile(max_size=32 << 20) as spool:
        shutil.copyfileobj(stream, spool)
        spool.seek(0)
        yield spool, str(name)


def _format(stream: IO[bytes] | IO[str], name: str, fmt: str | None) -> str:
    if fmt:
        return fmt
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if suffix == ".xls":
        raise _FileProblem(0, _ferr("file", "file.xls", "不支持旧版Excel（.xls）文件，请另存为.xlsx或.csv",
                                    "Old Excel (.xls) files are not supported; save as .xlsx or .csv"))
    if isinstance(stream, io.TextIOBase):
        return "csv"
    head = stream.read(4)
    stream.seek(0)
    return "xlsx" if head == _XLSX_MAGIC else "csv"


_ENCODINGS = ("utf-8-sig", "gb18030")  # the police system's UTF-8, or Excel's on a Chinese Windows
_UNDECODABLE = _ferr("file", "file.encoding",
                     "无法识别文件的字符编码：已尝试UTF-8和GB18030；请将文件另存为UTF-8或GB18030编码的CSV",
                     "Cannot decode the file: tried UTF-8 and GB18030. Save it as CSV in UTF-8 or GB18030")


def _detect_encoding(stream: IO[bytes]) -> str:
    """The first of UTF-8 (with or without BOM) and GB18030 that decodes the whole file."""
    for encoding in _ENCODINGS:
        decodes = _decodes(stream, encoding)
        stream.seek(0)
        if decodes:
            return encoding
    raise _FileProblem(0, _UNDECODABLE)


def _decodes(stream: IO[bytes], encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def _csv_rows(stream: IO[bytes] | IO[str]) -> Iterator[tuple[int, list[Any]]]:
    """(line, cells) for every record; comment lines before the header are skipped."""
    if isinstance(stream, io.TextIOBase):
        text: IO[str] = stream
    else:
        # Not a TextIOBase, so bytes (text streams, open() and StringIO, are TextIOBase). The
        # checker cannot narrow the union by it: typeshed's TextIOBase is no IO[str].
        raw = cast("IO[bytes]", stream)
        encoding = _detect_encoding(raw)
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    try:
        lines = iter(text)
        line_no, first = _skip_comments(lines)
        if first is None:
            return
        dialect = "excel-tab" if "\t" in first and "," not in first else "excel"
        reader = csv.reader(_chain(first, lines), dialect)
        for line_no, cells in enumerate(reader, start=line_no):
            yield line_no, cells
    except csv.Error as exc:
        raise _FileProblem(0, _ferr("file", "file.csv", f"CSV格式错误：{exc}", f"Malformed CSV: {exc}")) from None
    except UnicodeDecodeError:  # detection read it all; only a file changing under us gets here
        raise _FileProblem(0, _UNDECODABLE) from None
    finally:
        if text is not stream:
            text.detach()  # leave the caller's stream open


def _skip_comments(lines: Iterator[str]) -> tuple[int, str | None]:
    """Skip "#" note lines and blank lines before the header; return the header's line."""
    for n, raw in enumerate(lines, start=1):
        line = raw.lstrip("\ufeff")
        if line.strip() and not line.lstrip().startswith(COMMENT):
            return n, line
    return 0, None


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    for line in rest:  # not `yield from`: closing this early would close `rest`, the caller's file
        yield line


def _xlsx_rows(stream: IO[bytes], shape: Shape, limits: ExtractLimits) -> Iterator[tuple[int, list[Any]]]:
    from webapp.registry.extract.xlsx_guard import open_workbook

    try:
        wb = open_workbook(stream, limits)
    except Refusal as exc:
        raise _FileProblem(0, exc.error) from None
    except Exception as exc:  # openpyxl raises many types for a broken or foreign file
        raise _FileProblem(0, _unreadable(exc)) from None
    try:
        ws = wb[_pick_sheet(wb.sheetnames, shape)]
        ws.reset_dimensions()  # some writers store a wrong size; read what is there
        started = False
        rows = enumerate(ws.iter_rows(values_only=True), start=1)
        while True:
            try:
                n, row = next(rows)
            except StopIteration:
                return
            except Refusal as exc:
                raise _FileProblem(0, exc.error) from None
            except Exception as exc:  # a damaged part (bad CRC, bad XML) shows only when read
                raise _FileProblem(0, _unreadable(exc)) from None
            cells = list(row)
            if not started and _is_preamble(cells):
                continue
            started = True
            yield n, cells
    finally:
        wb.close()


def _unreadable(exc: Exception) -> FieldError:
    return _ferr("file", "file.xlsx", f"无法读取Excel文件：{exc}", f"Cannot read the Excel file: {exc}")


def _is_preamble(cells: list[Any]) -> bool:
    first = next((c for c in cells if c not in (None, "")), None)
    return first is None or (isinstance(first, str) and first.lstrip().startswith(COMMENT))


def _pick_sheet(names: list[str], shape: Shape) -> str:
    wanted = shape.sheet_names()
    for name in names:
        if name.strip().lower() in wanted:
            return name
    data = [n for n in names if n != NOTE_SHEET]
    if len(data) == 1:
        return data[0]
    raise _FileProblem(0, _ferr(
        "file", "file.sheet", f"工作簿中没有名为“{shape.zh}”的工作表",
        f"The workbook has no sheet named '{shape.zh}' or '{shape.key}'"))


def _read_table(shape: Shape, source: ExtractSource, fmt: str | None) -> Iterator[tuple[int, list[Any]]]:
    limits = source.limits if isinstance(source, Capped) else default_limits()
    if isinstance(source, Capped):
        source = source.source
    with _binary(source) as (stream, name):
        kind = _format(stream, name, fmt)
        if kind != "xlsx":
            yield from _capped(_csv_rows(stream), limits)
        elif isinstance(stream, io.TextIOBase):
            raise _FileProblem(0, _ferr("file", "file.xlsx", "Excel文件须以二进制方式打开",
                                        "An Excel file must be opened in binary mode"))
        else:
            yield from _capped(_xlsx_rows(stream, shape, limits), limits)  # type: ignore[arg-type]


def _capped(rows: Iterator[tuple[int, list[Any]]], limits: ExtractLimits) -> Iterator[tuple[int, list[Any]]]:
    """Rows up to the cap, counted by their line (blank and note lines count: they are read too)."""
    try:
        for line, cells in rows:
            if line > limits.extract_max_rows:
                raise _FileProblem(0, too_many_rows(limits))
            yield line, cells
    finally:
        rows.close()  # type: ignore[attr-defined]  # now, not when collected: it holds the file
