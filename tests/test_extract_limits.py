"""Extract uploads (issue 15 point 8): a file in neither encoding, over the row cap, or an XLSX
that expands too far (a zip bomb) is refused whole with a clear zh/en message, nothing
written, and reading a bomb keeps the reader's memory bounded."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import _config_for, csrf_token, login, valid_id
from webapp.models import AuditEntry, House, Person, Residency
from webapp.registry.extract import import_extract
from webapp.registry.extract.limits import Capped, ExtractLimits, Refusal
from webapp.registry.extract.read import _FileProblem, _read_table
from webapp.registry.extract.spec import PERSONS
from webapp.registry.extract.xlsx_guard import _Budget, _Part

pytestmark = pytest.mark.slow  # decompression bombs and size caps: `make test`, not `make check`

ROOT = Path(__file__).resolve().parent.parent
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MB = 1 << 20
ID = valid_id("31011719900315021")
CSV = f"证件类型,证件号码,姓名\nresident,{ID},赵六\n"


# -- building workbooks as Excel writes them, part by part (a bomb costs no memory to build) --

def xlsx(path: Path, sheet: Iterable[bytes], *, strings: Iterable[bytes] | None = None,
         styles: bytes | None = None, sheet_target: str = "worksheets/sheet1.xml", level: int = 1) -> Path:
    """A workbook with one sheet "persons", and optionally a shared-string table and styles."""
    overrides = ['<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                 'officedocument.spreadsheetml.sheet.main+xml"/>',
                 '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
                 'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>']
    rels = [f'<Relationship Id="rId1" Target="{sheet_target}" Type="http://schemas.openxmlformats'
            '.org/officeDocument/2006/relationships/worksheet"/>']
    if strings is not None:
        overrides.append('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
                         'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
        rels.append('<Relationship Id="rId2" Target="sharedStrings.xml" Type="http://schemas.'
                    'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>')
    if styles is not None:
        overrides.append('<Override PartName="/xl/styles.xml" ContentType="application/vnd.'
                         'openxmlformats-officedocument.spreadsheetml.styles+xml"/>')
    pkg = "http://schemas.openxmlformats.org/package/2006"
    parts: dict[str, Iterable[bytes]] = {
        "[Content_Types].xml": [f'<Types xmlns="{pkg}/content-types"><Default Extension="rels" '
                                'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                                f'{"".join(overrides)}</Types>'.encode()],
        "_rels/.rels": [f'<Relationships xmlns="{pkg}/relationships"><Relationship Id="rId1" '
                        'Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/officeDocument/'
                        '2006/relationships/officeDocument"/></Relationships>'.encode()],
        "xl/workbook.xml": [f'<workbook xmlns="{NS}" xmlns:r="http://schemas.openxmlformats.org/'
                            'officeDocument/2006/relationships"><sheets><sheet name="persons" sheetId="1" '
                            'r:id="rId1"/></sheets></workbook>'.encode()],
        "xl/_rels/workbook.xml.rels": [f'<Relationships xmlns="{pkg}/relationships">{"".join(rels)}'
                                       '</Relationships>'.encode()],
        "xl/worksheets/sheet1.xml": sheet,
    }
    if strings is not None:
        parts["xl/sharedStrings.xml"] = strings
    if styles is not None:
        parts["xl/styles.xml"] = [styles]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, chunks in parts.items():
            with zf.open(name, "w") as out:
                for chunk in chunks:
                    out.write(chunk)
    return path


def cell(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


HEADER = f"<row>{cell('证件类型')}{cell('证件号码')}{cell('姓名')}</row>"
PERSON = f"<row>{cell('resident')}{cell(ID)}{cell('赵六')}</row>"


def sheet(*rows: str, sheet_data: Iterable[bytes] = (), head: str = "") -> Iterator[bytes]:
    yield f'<worksheet xmlns="{NS}">{head}<sheetData>{"".join(rows)}'.encode()
    yield from sheet_data
    yield b"</sheetData></worksheet>"


def repeat(unit: bytes, total: int) -> Iterator[bytes]:
    """`unit` repeated to about `total` bytes, a megabyte at a time."""
    chunk = unit * (MB // len(unit))
    for _ in range(total // len(chunk)):
        yield chunk


def one_row_bomb(path: Path, total: int) -> Path:
    """The issue's upload: a header, then one row of `total` bytes of repeated cells."""
    row = [b"<row>", *repeat(b"<c><v>1</v></c>", total), b"</row>"]
    return xlsx(path, sheet(HEADER, sheet_data=row))


def lie_about_size(path: Path, part: str, size: int) -> Path:
    """Rewrite the uncompressed size that the zip directory gives `part` (the data is unchanged)."""
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    at = int.from_bytes(data[end + 16:end + 20], "little")  # the directory's first entry
    while data[at + 46:at + 46 + len(part)] != part.encode():
        name, extra, comment = (int.from_bytes(data[at + k:at + k + 2], "little") for k in (28, 30, 32))
        at += 46 + name + extra + comment
    data[at + 24:at + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Built once: ~1-2 MB files that expand to 300 MB (over the default cap) or 150 MB (under)."""
    tmp = tmp_path_factory.mktemp("bombs")
    over = one_row_bomb(tmp / "over.xlsx", 300 * MB)
    lying = lie_about_size(one_row_bomb(tmp / "lying.xlsx", 300 * MB), "xl/worksheets/sheet1.xml", 64 << 10)
    return {"over the cap": over, "one row under the cap": one_row_bomb(tmp / "under.xlsx", 150 * MB),
            "lying directory": lying}


def refusal(source: object, limits: ExtractLimits | None = None) -> str:
    """The code of the whole-file problem reading `source` raises (all its rows read)."""
    capped = Capped(source, limits) if limits else source
    with pytest.raises(_FileProblem) as raised:
        for _ in _read_table(PERSONS, capped, None):
            pass
    return raised.value.error.code


def counts(session: Session) -> tuple[int, ...]:
    session.rollback()
    return tuple(session.scalar(select(func.count()).select_from(m)) or 0
                 for m in (House, Person, Residency))


def upload(client, name: str, data: bytes, lang: str = "zh_CN"):  # type: ignore[no-untyped-def]
    """A real (not dry) import of `data` as the persons file, by the centre."""
    client.set_cookie("lang", lang)
    login(client, "centre")
    token = csrf_token(client, "/extract/")
    # Encoded here, in memory: the test client spools a body over 500 KB to a temporary file
    # that it never closes (a ResourceWarning, an error under filterwarnings=error).
    boundary, body = encode_multipart({"csrf_token": token, "dry_run": "",
                                       "persons": FileStorage(io.BytesIO(data), filename=name)})
    return client.post("/extract/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")


# -- text that is neither UTF-8 nor GB18030 --

# What Excel saves as "Unicode text": UTF-16 with a byte-order mark.
UTF16 = CSV.encode("utf-16")


@pytest.mark.parametrize(("lang", "words"), [
    ("zh_CN", ["无法识别文件的字符编码", "UTF-8", "GB18030"]),
    ("en", ["Cannot decode the file", "UTF-8", "GB18030"]),
])
def test_undecodable_upload_is_422_naming_the_encodings(client, area, db_session, lang, words) -> None:  # type: ignore[no-untyped-def]
    before = counts(db_session)
    response = upload(client, "persons.csv", UTF16, lang)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert all(w in page for w in words)
    assert counts(db_session) == before
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "import_extract")).one()
    assert entry.detail["ok"] is False  # the attempt is on record; nothing else is


def test_undecodable_file_on_the_command_line(runner, area, db_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = counts(db_session)
    path = tmp_path / "persons.csv"
    path.write_bytes(UTF16)
    result = runner.invoke(args=["import-extract", "--persons", str(path), "--lang", "en"])
    assert result.exit_code == 1
    assert "tried UTF-8 and GB18030" in result.output
    assert counts(db_session) == before


def test_gb18030_and_utf8_still_read() -> None:
    for encoding in ("gb18030", "utf-8-sig", "utf-8"):
        rows = list(_read_table(PERSONS, io.BytesIO(CSV.encode(encoding)), None))
        assert rows[-1][1] == ["resident", ID, "赵六"]


# -- rows --

def test_csv_over_the_row_cap_is_refused(db_session: Session) -> None:
    text = CSV + "".join(f"resident,{valid_id(f'31011719900315{n:03d}')},某\n" for n in range(3))
    assert refusal(io.BytesIO(text.encode()), ExtractLimits(extract_max_rows=4)) == "file.too_many_rows"
    at_cap = Capped(io.BytesIO(text.encode()), ExtractLimits(extract_max_rows=5))
    assert len(list(_read_table(PERSONS, at_cap, None))) == 5
    report = import_extract(db_session, {"persons": Capped(io.BytesIO(text.encode()),
                                                           ExtractLimits(extract_max_rows=4))}, by_user_id=None)
    assert [e.code for i in report.errors for e in i.errors] == ["file.too_many_rows"]
    assert counts(db_session) == (0, 0, 0)


def test_xlsx_over_the_row_cap_is_refused(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "p.xlsx", sheet(HEADER, PERSON, PERSON, PERSON))
    assert refusal(path, ExtractLimits(extract_max_rows=3)) == "file.too_many_rows"
    assert len(list(_read_table(PERSONS, Capped(path, ExtractLimits(extract_max_rows=4)), None))) == 4


def test_web_upload_uses_the_apps_row_cap(database_url, area, db_session) -> None:  # type: ignore[no-untyped-def]
    from webapp.app import create_app

    from webapp.extensions import db

    app = create_app(_config_for(database_url, EXTRACT_MAX_ROWS=1))
    response = upload(app.test_client(), "persons.csv", CSV.encode(), "en")
    with app.app_context():
        db.engine.dispose()
    assert response.status_code == 413
    assert "more than 1 rows" in response.get_data(as_text=True)
    assert counts(db_session) == (4, 4, 4)  # the area's, untouched


# -- what an XLSX expands to --

def test_bomb_upload_is_413_and_writes_nothing(client, area, db_session, bombs) -> None:  # type: ignore[no-untyped-def]
    before = counts(db_session)
    response = upload(client, "persons.xlsx", bombs["over the cap"].read_bytes())
    assert response.status_code == 413
    assert "Excel文件解压后超过200 MB的上限" in response.get_data(as_text=True)
    assert counts(db_session) == before
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "import_extract")).one()
    assert entry.detail["ok"] is False


# A child process reads the bomb through the whole import, as a worker would, under an
# address-space limit so that a runaway reader fails there and not on the machine.
CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
resource.setrlimit(resource.RLIMIT_CPU, (120, 120))
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from webapp.base.dbsetup import configure_engine
from webapp.registry.extract import import_extract
engine = create_engine(sys.argv[1])
configure_engine(engine)
with Session(engine) as session:
    report = import_extract(session, {"persons": sys.argv[2]}, by_user_id=None)
    session.rollback()
# Peak RSS since exec: rusage's ru_maxrss would also count the pytest process the child was
# forked from (Linux keeps the old memory's high-water mark across exec).
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"codes": [e.code for issue in report.errors for e in issue.errors],
                  "peak_mb": int(peak.split()[1]) / 1024}))
"""


def read_in_a_child(database_url: str, path: Path) -> dict:  # type: ignore[type-arg]
    """The refusal codes and the peak memory of a process importing `path` as persons."""
    done = subprocess.run([sys.executable, "-c", CHILD, database_url, str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(("bomb", "code"), [
    ("over the cap", "file.too_large"),  # by the zip directory, before parsing
    ("one row under the cap", "file.too_large"),  # while streaming: the row passes 1 MB
    ("lying directory", "file.xlsx"),  # the directory says 64 KB: zipfile stops there, CRC fails
])
def test_reading_a_bomb_stays_under_300_mb(database_url, db_session, bombs, bomb, code) -> None:  # type: ignore[no-untyped-def]
    read = read_in_a_child(database_url, bombs[bomb])
    print(f"{bomb}: {read}")
    assert read["codes"] == [code]
    assert read["peak_mb"] < 300
    assert counts(db_session) == (0, 0, 0)


def test_directory_sizes_are_checked_before_reading(tmp_path: Path) -> None:
    two_mb = xlsx(tmp_path / "p.xlsx", sheet(HEADER, sheet_data=repeat(PERSON.encode(), 2 * MB)))
    assert refusal(two_mb, ExtractLimits(extract_max_expanded_mb=1)) == "file.too_large"


def test_a_directory_that_understates_a_part_gets_no_further(tmp_path: Path) -> None:
    """Said 1 KB, the 2 MB sheet passes the directory check; zipfile then stops at 1 KB and
    fails its CRC check: an unreadable file, not 2 MB read."""
    path = xlsx(tmp_path / "p.xlsx", sheet(HEADER, PERSON, sheet_data=repeat(PERSON.encode(), 2 * MB)))
    assert refusal(path, ExtractLimits(extract_max_expanded_mb=1)) == "file.too_large"
    lie_about_size(path, "xl/worksheets/sheet1.xml", 1024)
    assert refusal(path, ExtractLimits(extract_max_expanded_mb=1)) == "file.xlsx"


def test_decompressed_bytes_are_counted_whatever_the_zip_reader_hands_over() -> None:
    """Should a zip reader hand over more than the directory says, the count still stops it."""
    budget = _Budget(ExtractLimits(extract_max_expanded_mb=1))
    two_mb = b"".join(sheet(HEADER, sheet_data=repeat(b"<row/>", 2 * MB)))
    part = _Part(io.BytesIO(two_mb), budget, "rows", "xl/worksheets/sheet1.xml")
    with pytest.raises(Refusal) as raised:
        while part.read(1 << 14):
            pass
    assert raised.value.error.code == "file.too_large"
    assert budget.parts["xl/worksheets/sheet1.xml"] <= MB + (1 << 14)


@pytest.mark.parametrize(("what", "build", "code"), [
    ("a row over 1 MB", lambda p: xlsx(p, sheet(HEADER, sheet_data=[b"<row>", *repeat(b"<c/>", 2 * MB),
                                                                   b"</row>"])), "file.too_large"),
    ("cells outside rows", lambda p: xlsx(p, sheet(HEADER, sheet_data=repeat(b"<c><v>1</v></c>", 5 * MB))),
     "file.too_large"),
    ("elements beside the sheet data", lambda p: xlsx(p, sheet(HEADER, head="<x/>" * (5 * MB // 4))),
     "file.too_large"),
    ("styles of 5 MB", lambda p: xlsx(p, sheet(HEADER), styles=f'<styleSheet xmlns="{NS}"><cellXfs>'.encode()
                                        + b"<xf/>" * (MB) + b"</cellXfs></styleSheet>"), "file.too_large"),
    ("a text of 2 MB", lambda p: xlsx(p, sheet(HEADER, sheet_data=[b"<row><c><v>", *repeat(b"1", 2 * MB),
                                                                   b"</v></c></row>"])), "file.too_large"),
    ("500,001 shared strings", lambda p: xlsx(p, sheet(HEADER), strings=[
        f'<sst xmlns="{NS}">'.encode(), b"<si/>" * 500_001, b"</sst>"]), "file.too_large"),
    ("a DTD", lambda p: xlsx(p, [b'<!DOCTYPE w [<!ENTITY a "aaaa">]>', *sheet(HEADER)]), "file.xlsx"),
    ("the string table as a sheet", lambda p: xlsx(p, sheet(HEADER), strings=sheet(HEADER)), "file.xlsx"),
])
def test_what_openpyxl_keeps_whole_is_bounded(tmp_path: Path, what: str, build, code: str) -> None:  # type: ignore[no-untyped-def]
    assert refusal(build(tmp_path / "p.xlsx")) == code, what


def test_a_sheet_read_as_the_string_table_is_refused(tmp_path: Path) -> None:
    """The sheet's relation points at the string table's part: read as a sheet, openpyxl
    would keep every string whole (it empties rows only)."""
    strings = [f'<sst xmlns="{NS}"><si><t>证件号码</t></si></sst>'.encode()]
    path = xlsx(tmp_path / "p.xlsx", sheet(HEADER), strings=strings, sheet_target="sharedStrings.xml")
    assert refusal(path) == "file.xlsx"


def test_unsupported_compression_and_huge_directories_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bz.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
    assert refusal(path) == "file.xlsx"
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(many, "w") as zf:
        for n in range(30_000):
            zf.writestr(f"{n:x}", b"")
    assert refusal(many) == "file.too_large"


def test_an_excel_style_workbook_with_shared_strings_reads(db_session: Session, tmp_path: Path) -> None:
    """Excel writes a dimension and a shared-string table; the guard lets an honest one through."""
    table = ["证件类型", "证件号码", "姓名", "resident", ID, "赵六"]
    strings = [f'<sst xmlns="{NS}" count="6" uniqueCount="6">'.encode(),
               *(f"<si><t>{t}</t></si>\n".encode() for t in table), b"</sst>"]
    rows = "\n".join(f'<row r="{r + 1}">' + "".join(f'<c t="s"><v>{3 * r + i}</v></c>' for i in range(3))
                     + "</row>" for r in range(2))
    path = xlsx(tmp_path / "p.xlsx", sheet(rows, head='<dimension ref="A1:C2"/>'), strings=strings)
    report = import_extract(db_session, {"persons": path}, by_user_id=None)
    assert report.ok, report.summary_lines("en")
    assert report.counts()["persons"]["new"] == 1
