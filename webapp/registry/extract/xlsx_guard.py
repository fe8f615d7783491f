"""Opening an XLSX with what it expands to bounded, before and while openpyxl reads it.

An XLSX is a zip of XML parts, and 1 MB of upload can expand to gigabytes. openpyxl's
read-only mode streams a worksheet's rows, but it keeps in memory, whole: each part it
reads with `read()` (workbook, styles, relations, …), the shared-string table, whatever in a
worksheet is not a row, and each row until its end tag (a finished row leaves an empty
element behind). Its trees cost 10-20 times the XML: a 100 MB single row took a reader to
3 GB, 100 MB of cells outside rows to 1.6 GB, 20 MB of styles to 260 MB. So:

* Before parsing, from the zip's directory: a directory of at most 1 MiB (zipfile builds
  an object per entry: 50 MB of empty entries cost 320 MB to open), parts of at most
  EXTRACT_MAX_EXPANDED_MB in all, stored or deflated (bzip2 and LZMA, never used in an
  XLSX, inflate a whole chunk at once).
* While openpyxl reads, through our zip (`_GuardedZip`): every byte it is given is counted
  as decompressed against the same cap, so a directory that understates sizes gets no
  further. (zipfile itself stops a part at its declared size and then fails its CRC
  check; the count does not rely on that.) Streamed parts are followed by expat (no tree)
  chunk by chunk before openpyxl sees the chunk: each row or shared string at most
  `_RECORD` bytes, at most `_STRINGS` shared strings in `_STRINGS_BYTES`, and everything
  kept whole (parts read whole, and what lies outside rows and strings) at most `_HELD`
  bytes for the workbook. A DTD is refused in any part (entity expansion is a bomb too).

Beyond these, openpyxl's memory grows with the rows, which EXTRACT_MAX_ROWS caps. There is
no compression-ratio rule: the caps bound the work whatever the ratio, and honest sheets of
repeated or blank cells compress 100-1000:1. No Flask here.
"""
from __future__ import annotations

import zipfile
from typing import IO, Any
from xml.parsers import expat

# openpyxl 3.1.5 ships no types, and the requirements hold no stubs for it: its imports are untyped.
from openpyxl.xml.constants import SHEET_MAIN_NS  # type: ignore[import-untyped]

from webapp.registry.extract.limits import (
    ExtractLimits,
    Refusal,
    expands_too_far,
    part_too_large,
    unreadable,
)

_DIRECTORY = 1 << 20  # bytes of central directory: ~10,000 parts (an XLSX has ~10-50)
_RECORD = 1 << 20  # one row or one shared string, built as a tree until it ends
_HELD = 4 << 20  # all that openpyxl keeps whole, for the whole workbook (~50 MB of tree)
_STRINGS = 500_000  # shared strings: each keeps a list entry and an emptied element
_STRINGS_BYTES = 32 << 20  # the shared-string table (kept as a list of Python strings)
_CHUNK = 1 << 16

_ROOTS = {"rows": f"{{{SHEET_MAIN_NS}}}worksheet", "strings": f"{{{SHEET_MAIN_NS}}}sst"}
_ROW_PATH = (f"{{{SHEET_MAIN_NS}}}worksheet", f"{{{SHEET_MAIN_NS}}}sheetData", f"{{{SHEET_MAIN_NS}}}row")
_STRING_PATH = (f"{{{SHEET_MAIN_NS}}}sst", f"{{{SHEET_MAIN_NS}}}si")


def open_workbook(stream: IO[bytes], limits: ExtractLimits) -> Any:
    """openpyxl's read-only workbook, reading every part through `_GuardedZip`.

    This is openpyxl's `load_workbook` (3.1.5, pinned) with our zip in place of its own.
    """
    from openpyxl.reader.excel import ExcelReader  # type: ignore[import-untyped]  # no types: see the top

    archive = _GuardedZip(stream, limits)
    try:
        reader = ExcelReader(stream, read_only=True, data_only=True, keep_links=False)
        reader.archive.close()  # its own zip over the same stream (which stays open): ours reads
        reader.archive = archive
        reader.read()
    except BaseException:
        archive.close()
        raise
    return reader.wb


class _GuardedZip(zipfile.ZipFile):
    def __init__(self, stream: IO[bytes], limits: ExtractLimits) -> None:
        try:
            # zipfile's own reading of the end record: the directory it will then read whole.
            directory = zipfile._EndRecData(stream)  # type: ignore[attr-defined]
        except OSError:
            directory = None
        if directory is None:
            raise Refusal(unreadable("不是有效的Excel（zip）文件", "not a valid Excel (zip) file"))
        if directory[zipfile._ECD_SIZE] > _DIRECTORY:  # type: ignore[attr-defined]
            raise Refusal(part_too_large("文件目录", "the zip directory", "1 MB"))
        super().__init__(stream)
        parts = self.infolist()
        if any(p.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for p in parts):
            raise Refusal(unreadable("使用了不支持的压缩方式", "it uses an unsupported compression method"))
        if sum(p.file_size for p in parts) > limits.max_expanded_bytes:
            raise Refusal(expands_too_far(limits))
        self.budget = _Budget(limits)
        self.strings_part: str | None = None
        self.strings_part = self._strings_part()

    def _strings_part(self) -> str | None:
        """The shared-string table's part, found as openpyxl's `read_strings` finds it."""
        from openpyxl.packaging.manifest import Manifest  # type: ignore[import-untyped]  # no types: see the top
        from openpyxl.xml.constants import ARC_CONTENT_TYPES, SHARED_STRINGS
        from openpyxl.xml.functions import fromstring  # type: ignore[import-untyped]  # no types: see the top

        found = Manifest.from_tree(fromstring(self.read(ARC_CONTENT_TYPES))).find(SHARED_STRINGS)
        return found.PartName[1:] if found is not None else None

    def open(self, name: Any, mode: str = "r", pwd: bytes | None = None, **kw: Any) -> Any:
        raw = super().open(name, mode, pwd, **kw)
        if mode != "r":
            return raw
        # Streamed, the string table's part is the string table the first time (openpyxl
        # reads it before any worksheet); every other streamed part is a worksheet, read for
        # its size while loading and for its rows after. A table's part used again is
        # used as a worksheet, and refused: its root is not one.
        streamed = "strings" if name == self.strings_part else "rows"
        if streamed == "strings":
            self.strings_part = None
        return _Part(raw, self.budget, streamed, str(name))


class _Budget:
    """What one workbook has cost so far, over all its parts."""

    def __init__(self, limits: ExtractLimits) -> None:
        self.limits = limits
        self.held = self.strings = 0
        self.parts: dict[str, int] = {}  # bytes decompressed of each part, in its longest reading

    def expand(self, name: str, read: int) -> None:
        """`read` bytes of part `name` decompressed so far. openpyxl reads a worksheet twice
        (for its size, then its rows): what the workbook expands to counts each part once."""
        if read > self.parts.get(name, 0):
            self.parts[name] = read
            if sum(self.parts.values()) > self.limits.max_expanded_bytes:
                raise Refusal(expands_too_far(self.limits))

    def hold(self, n: int, pending: int = 0) -> None:
        """Charge `n` bytes kept whole; `pending` more are on their way (checked, not charged)."""
        self.held += n
        if self.held + pending > _HELD:
            raise Refusal(part_too_large("表格数据以外的内容", "what lies outside the rows", "4 MB"))

    def string(self) -> None:
        self.strings += 1
        if self.strings > _STRINGS:
            raise Refusal(part_too_large("共享字符串的数量", "the number of shared strings", f"{_STRINGS:,}"))


class _Part:
    """One part as openpyxl reads it: counted, and watched by expat before it is handed on.

    `read()` of the whole part is kept whole (held); reads by chunks are openpyxl streaming
    a worksheet ("rows") or the shared strings ("strings").
    """

    def __init__(self, raw: IO[bytes], budget: _Budget, streamed: str, name: str) -> None:
        self._raw, self._budget, self._streamed, self._name = raw, budget, streamed, name
        self._watch: _Watch | None = None
        self._read = 0

    def read(self, n: int | None = -1) -> bytes:
        whole = n is None or n < 0
        if self._watch is None:
            self._watch = _Watch(self._budget, None if whole else self._streamed, self._name)
        if n is not None and n >= 0:
            return self._take(self._raw.read(n))
        chunks = []
        while chunk := self._raw.read(_CHUNK):
            chunks.append(self._take(chunk))
        return b"".join(chunks)

    def _take(self, data: bytes) -> bytes:
        self._read += len(data)
        self._budget.expand(self._name, self._read)
        assert self._watch is not None
        self._watch.feed(data)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _Part:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Watch:
    """expat over one part: charges what openpyxl will keep, refuses what would grow too far.

    Streamed ("rows", "strings"): a record (a row of the sheet's data, a shared string) may
    reach `_RECORD` bytes, everything outside records is held. Whole (None): all is held.
    """

    def __init__(self, budget: _Budget, streamed: str | None, name: str) -> None:
        self.budget, self.streamed, self.name = budget, streamed, name
        self.path = {"rows": _ROW_PATH, "strings": _STRING_PATH}.get(streamed or "", ())
        self.parser = expat.ParserCreate(namespace_separator="}")
        self.parser.StartDoctypeDeclHandler = self._doctype
        if streamed:
            self.parser.StartElementHandler = self._start
            self.parser.EndElementHandler = self._end
            self.parser.CharacterDataHandler = self._outside_text
        self.fed = 0  # bytes given to expat so far
        self.tags: list[str] = []  # open elements down to a record's parent
        self.depth = 0
        self.record_at: int | None = None  # where the open record began
        self.ended_at: int | None = None  # a record's end tag began here; outside from the next event
        self.outside_at = 0  # where the current stretch outside records began
        self.xml = True

    def feed(self, data: bytes) -> None:
        self.fed += len(data)
        if self.streamed is None:
            self.budget.hold(len(data))
        if self.xml:
            try:
                self.parser.Parse(data, False)
            except expat.ExpatError:
                if self.streamed:  # openpyxl's parser would fail on it too; say so plainly
                    raise Refusal(unreadable(f"{self.name}不是有效的XML", f"{self.name} is not valid XML")) from None
                self.xml = False  # a picture, a printer setting: bytes, held above
        if self.streamed:
            self._check()

    def _check(self) -> None:
        """After each chunk: nothing open may have grown past its cap, even between events."""
        if self.streamed == "strings" and self.fed > _STRINGS_BYTES:
            raise Refusal(part_too_large("共享字符串表", "the shared-string table", "32 MB"))
        if self.record_at is not None:
            self._record_size(self.fed - self.record_at)
        elif self.ended_at is not None:
            self._record_size(self.fed - self.ended_at)
        else:
            self.budget.hold(0, pending=self.fed - self.outside_at)

    def _record_size(self, size: int) -> None:
        if size > _RECORD:
            what = ("一行", "one row") if self.streamed == "rows" else ("一个共享字符串", "one shared string")
            raise Refusal(part_too_large(*what, "1 MB"))

    def _doctype(self, *_: Any) -> None:
        raise Refusal(unreadable("含有DTD声明", "it contains a DTD declaration"))

    def _tag(self, name: str) -> str:
        return "{" + name if "}" in name else name  # ElementTree's spelling: {namespace}local

    def _resume_outside(self) -> None:
        """The first event after a record's end tag marks where the outside resumes."""
        if self.ended_at is not None:
            self.outside_at, self.ended_at = self.parser.CurrentByteIndex, None

    def _start(self, name: str, _attrs: Any) -> None:
        self._resume_outside()
        self.depth += 1
        if self.record_at is not None:
            return
        tag = self._tag(name)
        if self.depth == 1 and tag != _ROOTS[self.streamed or ""]:
            raise Refusal(unreadable(f"{self.name}的内容与其用途不符", f"{self.name} is not what it is used as"))
        if self.depth < len(self.path):
            self.tags.append(tag)
        elif self.depth == len(self.path) and (*self.tags, tag) == self.path:
            at = self.parser.CurrentByteIndex
            self.budget.hold(at - self.outside_at)
            self.record_at = at
            self.parser.CharacterDataHandler = None  # text inside records costs no events
            if self.streamed == "strings":
                self.budget.string()

    def _end(self, _name: str) -> None:
        self._resume_outside()
        self.depth -= 1
        if self.record_at is not None and self.depth == len(self.path) - 1:
            self._record_size(self.parser.CurrentByteIndex - self.record_at)
            self.record_at, self.ended_at = None, self.parser.CurrentByteIndex
            self.parser.CharacterDataHandler = self._outside_text
        elif self.record_at is None and self.depth < len(self.tags):
            self.tags.pop()

    def _outside_text(self, _text: str) -> None:
        self._resume_outside()
