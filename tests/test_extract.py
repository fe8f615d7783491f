"""The police extract: repeatable all-or-nothing import, and export that re-imports unchanged."""
from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from webapp.models import House, HouseCode, Person, Residency
from webapp.registry.extract import SHAPES, ImportReport, export_extract, import_extract
from webapp.validation import check_char_gb11643, mask_id


def rid(n: int, born: str = "19900101", area: str = "310101") -> str:
    first17 = f"{area}{born}{n:03d}"
    return first17 + check_char_gb11643(first17)


P1, P2, P3, P4, P5 = (rid(n) for n in (11, 12, 13, 14, 15))
HOUSE_HEAD = ["外部编码", "路", "门牌号", "楼号", "单元", "楼层", "室", "经度", "纬度", "用途", "建筑面积", "居住面积"]
PERSON_HEAD = ["证件类型", "证件号码", "姓名", "手机", "人员类别", "户籍地址", "居住证号", "居住证有效期"]
RES_HEAD = ["证件号码", "房屋外部编码", "关系", "入住日期", "迁出日期"]

HOUSES = [
    ["E001", "谷阳北路", "88弄", "1", "", "3", "301", "121.2301", "31.0312", "出租", "80.5", "60"],
    ["E002", "谷阳北路", "88弄", "2", "", "5", "502", "121.2302", "31.0313", "自住", "95", ""],
    ["E003", "人民北路", "12", "", "", "", "", "", "", "owner_occupied", "", ""],
]
PERSONS = [
    ["居民身份证", P1, "张一", "13800000001", "来沪", "安徽省合肥市", "SH001", "2026-06-30"],
    ["resident", P2, "张二", "13800000002", "migrant", "", "", ""],
    ["居民身份证", P3, "李三", "", "户籍", "上海市松江区", "", ""],
    ["居民身份证", P4, "王四", "13800000004", "人户分离", "", "", ""],
]
RESIDENCIES = [
    [P1, "E001", "承租人", "2025-01-01", ""],
    [P2, "E001", "家庭成员", "2025-01-01", ""],
    [P3, "E002", "产权人", "2024-05-01", ""],
    [P4, "E003", "tenant", "2025-03-01", ""],
]


def write_csv(path: Path, head: list[str], rows: list[list[Any]], encoding: str = "utf-8-sig",
              comment: str | None = None) -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        if comment:
            fh.write(comment + "\r\n")
        writer = csv.writer(fh)
        writer.writerow(head)
        writer.writerows(rows)
    return path


def month(tmp: Path, houses: list[list[Any]] = HOUSES, persons: list[list[Any]] = PERSONS,
          residencies: list[list[Any]] = RESIDENCIES, **kw: Any) -> dict[str, Path]:
    tmp.mkdir(exist_ok=True)
    return {"houses": write_csv(tmp / "houses.csv", HOUSE_HEAD, houses, **kw),
            "persons": write_csv(tmp / "persons.csv", PERSON_HEAD, persons, **kw),
            "residencies": write_csv(tmp / "residencies.csv", RES_HEAD, residencies, **kw)}


@pytest.fixture
def uid(db_session: Session) -> int:
    return factories.user(db_session, "centre", "centre").id


def run(session: Session, files: dict[str, Any], uid: int, **kw: Any) -> ImportReport:
    report = import_extract(session, files, by_user_id=uid, **kw)
    session.commit()
    session.expire_all()
    return report


def versions(session: Session) -> dict[str, int]:
    out = {}
    for model in (House, HouseCode, Person, Residency):
        out |= {f"{model.__name__}:{r.id}": r.version for r in session.scalars(select(model))}
    return out


def row_counts(session: Session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(m)) or 0
                 for m in (House, HouseCode, Person, Residency))


def person(session: Session, id_number: str) -> Person:
    return session.scalars(select(Person).where(Person.id_number == id_number)).one()


def open_residency(session: Session, p: Person) -> Residency | None:
    return session.scalars(select(Residency).where(
        Residency.person_id == p.id, Residency.end_date.is_(None))).one_or_none()


def house_of(session: Session, code: str) -> House:
    return session.scalars(select(House).join(HouseCode).where(HouseCode.code == code)).one()


def test_first_import_creates_everything(db_session: Session, uid: int, tmp_path: Path) -> None:
    report = run(db_session, month(tmp_path), uid)

    assert report.ok and report.written
    assert report.counts() == {
        "houses": {"rows": 3, "new": 3, "changed": 0, "unchanged": 0, "gone": 0},
        "persons": {"rows": 4, "new": 4, "changed": 0, "unchanged": 0, "gone": 0},
        "residencies": {"rows": 4, "new": 4, "changed": 0, "unchanged": 0, "gone": 0},
    }
    h1 = house_of(db_session, "E001")
    assert (h1.road, h1.number, h1.floor, h1.use, h1.lon, h1.cell_id) == (
        "谷阳北路", "88弄", 3, "rented", 121.2301, None)
    assert h1.codes[0].kind == "external" and h1.changed_by_id == uid
    p1 = person(db_session, P1)
    assert (p1.name, p1.phone, p1.phone_rev, p1.category) == ("张一", "13800000001", "10000000831", "migrant")
    assert (p1.sex, p1.birth_date, p1.permit_expiry, p1.id_rev) == (
        "M", date(1990, 1, 1), date(2026, 6, 30), P1[::-1])
    r1 = open_residency(db_session, p1)
    assert r1 is not None and (r1.house_id, r1.relation, r1.source) == (h1.id, "tenant", "import")
    assert report.summary_lines("en")[0] == "Import complete"
    assert "新增3" in report.summary_lines("zh")[1]


def test_same_extract_again_changes_nothing(db_session: Session, uid: int, tmp_path: Path) -> None:
    files = month(tmp_path)
    run(db_session, files, uid)
    before = versions(db_session)

    report = run(db_session, files, uid)

    assert report.ok
    for shape, counts in report.counts().items():
        assert counts["unchanged"] == counts["rows"], shape
        assert counts["new"] == counts["changed"] == counts["gone"] == 0, shape
    assert versions(db_session) == before


def test_second_month(db_session: Session, uid: int, tmp_path: Path) -> None:
    run(db_session, month(tmp_path / "m1"), uid)
    before = versions(db_session)
    old_p3 = open_residency(db_session, person(db_session, P3))
    assert old_p3 is not None
    persons = [
        ["居民身份证", P1, "张一", "13900000001", "来沪", "安徽省合肥市", "SH001", "2026-06-30"],  # new phone
        PERSONS[1], PERSONS[2],  # P4 has gone from the extract
        ["居民身份证", P5, "赵五", "", "来沪", "", "", ""],
    ]
    residencies = [
        RESIDENCIES[0],
        [P2, "E001", "家庭成员", "2025-01-01", "2025-10-31"],  # moved out
        [P3, "E003", "产权人", "2025-11-01", ""],  # moved house: no row for the old one
        [P5, "E002", "承租人", "2025-11-05", ""],
    ]

    report = run(db_session, month(tmp_path / "m2", persons=persons, residencies=residencies), uid)

    assert report.ok, report.summary_lines("en")
    ps, rs = report.shapes["persons"], report.shapes["residencies"]
    assert [i.key for i in ps.new] == [P5]
    assert [(i.key, i.diff) for i in ps.changed] == [(P1, {"phone": ("13800000001", "13900000001")})]
    assert ps.unchanged == 2 and [i.key for i in ps.gone] == [P4]
    assert sorted(i.key for i in rs.new) == sorted([f"{P3}/E003/2025-11-01", f"{P5}/E002/2025-11-05"])
    assert {i.key: (i.diff["end_date"], i.note) for i in rs.changed} == {
        f"{P2}/E001/2025-01-01": ((None, date(2025, 10, 31)), None),
        f"{P3}/E002/2024-05-01": ((None, date(2025, 10, 31)), "moved"),
    }
    assert rs.unchanged == 1 and [i.key for i in rs.gone] == [f"{P4}/E003/2025-03-01"]
    assert report.shapes["houses"].unchanged == 3

    after = versions(db_session)
    p1 = person(db_session, P1)
    bumped = {k for k in before if after[k] != before[k]}
    assert bumped == {f"Person:{p1.id}", f"Residency:{old_p3.id}",
                      f"Residency:{open_residency_id_ended(db_session, P2)}"}
    assert all(after[k] == 2 for k in bumped)
    db_session.refresh(old_p3)
    assert old_p3.end_date == date(2025, 10, 31) and old_p3.end_reason
    moved = open_residency(db_session, person(db_session, P3))
    assert moved is not None and moved.house_id == house_of(db_session, "E003").id
    # Gone means listed for review, never deleted.
    assert person(db_session, P4).deleted_at is None
    assert open_residency(db_session, person(db_session, P4)) is not None


def open_residency_id_ended(session: Session, id_number: str) -> Any:
    return session.scalars(select(Residency.id).where(
        Residency.person_id == person(session, id_number).id, Residency.end_date.is_not(None))).one()


def test_bad_rows_are_reported_and_nothing_is_written(db_session: Session, uid: int, tmp_path: Path) -> None:
    run(db_session, month(tmp_path / "m1"), uid)
    before_counts, before_versions = row_counts(db_session), versions(db_session)
    bad_check = P5[:-1] + ("0" if P5[-1] != "0" else "1")
    persons = [
        ["居民身份证", P1, "张一", "13900000001", "来沪", "", "", ""],  # line 2: a good change
        ["居民身份证", bad_check, "坏校验", "", "来沪", "", "", ""],  # line 3
        ["居民身份证", rid(21), "坏日期", "", "来沪", "", "", "2026-02-30"],  # line 4
        ["居民身份证", rid(22), "坏类别", "", "外星人", "", "", ""],  # line 5
        ["居民身份证", rid(23), "", "", "来沪", "", "", ""],  # line 6
        ["居民身份证", P2, "张二", "", "来沪", "", "", ""],  # line 7
        ["居民身份证", P2, "张二重复", "", "来沪", "", "", ""],  # line 8
        ["居民身份证", rid(24), "长期", "", "来沪", "", "", "9999-12-31"],  # line 9: 9999 for "long-term"
    ]
    residencies = [[P1, "E999", "承租人", "2025-01-01", ""]]  # line 2
    files = month(tmp_path / "bad", persons=persons, residencies=residencies)

    report = run(db_session, files, uid)

    assert not report.ok and not report.written
    got = {(e.sheet, e.line): [x.code for x in e.errors] for e in report.errors}
    assert got == {
        ("persons", 3): ["id.check"],
        ("persons", 4): ["extract.date"],
        ("persons", 5): ["extract.choice"],
        ("persons", 6): ["extract.required"],
        ("persons", 8): ["extract.duplicate"],
        ("persons", 9): ["extract.range"],
        ("residencies", 2): ["extract.unknown_house"],
    }
    messages = {(e.sheet, e.line): e for e in report.errors}
    assert "第7行" in messages["persons", 8].errors[0].zh and "line 7" in messages["persons", 8].errors[0].en
    assert "人员类别" in messages["persons", 5].errors[0].zh
    assert report.summary_lines("zh")[0].startswith("导入失败")
    assert any("人口 第4行" in line for line in report.summary_lines("zh"))
    assert row_counts(db_session) == before_counts and versions(db_session) == before_versions
    assert person(db_session, P1).phone == "13800000001"


def test_a_nul_in_a_cell_is_that_cells_error(db_session: Session, uid: int, tmp_path: Path) -> None:
    # It was stored on SQLite, and failed the import with a DataError on PostgreSQL (a 500).
    houses = [["E001", "谷阳\x00北路", *HOUSES[0][2:]]]
    persons = [["居民身份证", P1, "张\x00一", "13800000001", "来沪", "安徽省", "", ""]]
    files = month(tmp_path / "nul", houses=houses, persons=persons, residencies=[RESIDENCIES[0]])

    report = run(db_session, files, uid)

    assert not report.ok and not report.written
    got = {(e.sheet, e.line): [(x.field, x.code) for x in e.errors] for e in report.errors}
    assert got[("houses", 2)] == [("road", "extract.characters")]
    assert got[("persons", 2)] == [("name", "extract.characters")]
    error = report.errors[0].errors[0]
    assert "无法保存" in error.zh and "cannot be stored" in error.en
    assert row_counts(db_session) == (0, 0, 0, 0)


def test_missing_required_column_is_one_error(db_session: Session, uid: int, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", ["证件号码", "手机", "备注"], [[P1, ""]])
    report = run(db_session, {"persons": path}, uid)
    assert [(e.line, [x.code for x in e.errors]) for e in report.errors] == [(1, ["extract.missing_column"])]
    assert [x.code for w in report.warnings for x in w.errors] == ["extract.unknown_column"]


def test_dry_run_reports_but_writes_nothing(db_session: Session, uid: int, tmp_path: Path) -> None:
    report = run(db_session, month(tmp_path), uid, dry_run=True)
    assert report.ok and not report.written
    assert report.counts()["residencies"]["new"] == 4
    assert row_counts(db_session) == (0, 0, 0, 0)
    assert report.summary_lines("en")[0].startswith("Dry run")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_encodings_and_comment_lines(db_session: Session, uid: int, tmp_path: Path,
                                         encoding: str) -> None:
    files = month(tmp_path, encoding=encoding, comment="# 派出所 2025年11月 提取")
    report = run(db_session, files, uid)
    assert report.ok, report.summary_lines("en")
    assert person(db_session, P3).hukou_address == "上海市松江区"
    assert house_of(db_session, "E003").road == "人民北路"


def test_xlsx_with_english_headers_and_typed_cells(db_session: Session, uid: int, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "房屋"
    ws.append(["# 提取说明"])
    ws.append(["external_code", "road", "number", "floor", "lon", "lat", "use"])
    ws.append(["E001", "谷阳北路", 88, 3, 121.2301, 31.0312, "出租"])
    ws = wb.create_sheet("人口")
    ws.append(["id_number", "name", "phone", "category", "permit_expiry"])
    ws.append([P1, "张一", 13800000001, "来沪", date(2026, 6, 30)])
    ws = wb.create_sheet("居住")
    ws.append(["id_number", "house_external_code", "relation", "start_date"])
    ws.append([P1, "e001", "承租人", date(2025, 1, 1)])
    path = tmp_path / "extract.xlsx"
    wb.save(path)

    report = run(db_session, {"houses": path, "persons": path, "residencies": path}, uid)

    assert report.ok, report.summary_lines("en")
    h = house_of(db_session, "E001")
    assert (h.number, h.floor, h.lat, h.use) == ("88", 3, 31.0312, "rented")
    p = person(db_session, P1)
    assert (p.phone, p.permit_expiry, p.category, p.id_type) == (
        "13800000001", date(2026, 6, 30), "migrant", "resident")
    assert open_residency(db_session, p).house_id == h.id  # type: ignore[union-attr]


def test_bad_xlsx_row_reports_sheet_line(db_session: Session, uid: int, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(PERSON_HEAD)
    ws.append([])
    ws.append(["居民身份证", "12345", "短号", "", "", "", "", ""])
    path = tmp_path / "persons.xlsx"
    wb.save(path)
    report = run(db_session, {"persons": path}, uid)
    assert [(e.sheet, e.line, e.errors[0].code) for e in report.errors] == [("persons", 3, "id.length")]


def test_legacy_15_digit_number_matches(db_session: Session, uid: int, tmp_path: Path) -> None:
    run(db_session, month(tmp_path / "m1"), uid)
    legacy = P1[:6] + P1[8:17]  # drop "19" and the check character
    persons = [["居民身份证", legacy, *PERSONS[0][2:]]]
    residencies = [[legacy, "E001", "承租人", "2025-01-01", ""]]
    report = run(db_session, {"persons": write_csv(tmp_path / "p.csv", PERSON_HEAD, persons),
                              "residencies": write_csv(tmp_path / "r.csv", RES_HEAD, residencies)}, uid)
    assert report.ok and report.shapes["persons"].unchanged == 1
    assert report.shapes["residencies"].unchanged == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_reimports_unchanged(db_session: Session, uid: int, tmp_path: Path, fmt: str) -> None:
    run(db_session, month(tmp_path / "m1"), uid)
    before = versions(db_session)
    note = "导出人 centre 2026-11-26 10:00 仅供工作使用"
    files: dict[str, Any] = {}
    for shape in ("houses", "persons", "residencies"):
        buf = io.BytesIO()
        export_extract(db_session, shape, fmt, buf, header_note=note)  # type: ignore[arg-type]
        buf.seek(0)
        buf.name = f"{shape}.{fmt}"  # type: ignore[attr-defined]
        files[shape] = buf

    report = run(db_session, files, uid)

    assert report.ok, report.summary_lines("en")
    assert {k: (c["rows"], c["unchanged"]) for k, c in report.counts().items()} == {
        "houses": (3, 3), "persons": (4, 4), "residencies": (4, 4)}
    assert versions(db_session) == before


def test_export_csv_has_bom_note_and_chinese(db_session: Session, uid: int, tmp_path: Path) -> None:
    run(db_session, month(tmp_path), uid)
    buf = io.BytesIO()
    n = export_extract(db_session, "persons", "csv", buf, header_note="导出人 centre\n2026-11-26")
    raw = buf.getvalue()
    assert n == 4 and raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "# 导出人 centre 2026-11-26"
    header = lines[1].split(",")
    assert header == [c.zh for c in SHAPES["persons"].columns] and set(PERSON_HEAD) < set(header)
    row = dict(zip(header, lines[2].split(","), strict=True))
    assert [row[k] for k in ("证件类型", "证件号码", "姓名", "手机", "人员类别")] == ["居民身份证", P1, "张一", "13800000001", "来沪"]


def test_export_xlsx_note_in_first_row_properties_and_sheet(db_session: Session, uid: int,
                                                            tmp_path: Path) -> None:
    run(db_session, month(tmp_path), uid)
    buf = io.BytesIO()
    export_extract(db_session, "residencies", "xlsx", buf, header_note="导出人 centre")
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    assert wb.sheetnames == ["居住", "说明"]
    assert wb["居住"]["A1"].value == "# 导出人 centre"
    assert [c.value for c in wb["居住"][2]] == RES_HEAD
    assert wb["居住"]["D3"].value.date() == date(2025, 1, 1)
    assert wb["说明"]["B1"].value == "导出人 centre" and wb.properties.description == "导出人 centre"


def test_export_masks_ids_and_filters_by_house(db_session: Session, uid: int, tmp_path: Path) -> None:
    run(db_session, month(tmp_path), uid)
    e003 = house_of(db_session, "E003").id
    out = {}
    for shape in ("houses", "persons", "residencies"):
        buf = io.BytesIO()
        export_extract(db_session, shape, "csv", buf, header_note="", house_ids=[e003], role="police")
        out[shape] = list(csv.reader(io.StringIO(buf.getvalue().decode("utf-8-sig"))))
    assert out["houses"][0] == HOUSE_HEAD and [r[0] for r in out["houses"][1:]] == ["E003"]
    assert [r[1] for r in out["persons"][1:]] == [mask_id(P4)]
    assert [r[:2] for r in out["residencies"][1:]] == [[mask_id(P4), "E003"]]
    assert P4 not in str(out)


def test_export_filter_by_select(db_session: Session, uid: int, tmp_path: Path) -> None:
    run(db_session, month(tmp_path), uid)
    visible = select(HouseCode.house_id).where(HouseCode.code.in_(["E001", "E002"]))
    buf = io.BytesIO()
    assert export_extract(db_session, "persons", "csv", buf, header_note="x", house_ids=visible) == 3


def test_export_guards_formulas_and_reimports(db_session: Session, uid: int, tmp_path: Path) -> None:
    houses = [["E009", "=HYPERLINK(\"x\")", "-1", "", "", "-1", "", "", "", "", "", ""]]
    run(db_session, {"houses": write_csv(tmp_path / "h.csv", HOUSE_HEAD, houses)}, uid)
    for fmt in ("csv", "xlsx"):
        buf = io.BytesIO()
        export_extract(db_session, "houses", fmt, buf, header_note="n")  # type: ignore[arg-type]
        if fmt == "csv":
            assert "'=HYPERLINK" in buf.getvalue().decode("utf-8-sig")
        buf.seek(0)
        buf.name = f"h.{fmt}"  # type: ignore[attr-defined]
        report = run(db_session, {"houses": buf}, uid)
        assert report.ok and report.shapes["houses"].unchanged == 1, report.summary_lines("en")


def test_progress_and_report_dict(db_session: Session, uid: int, tmp_path: Path) -> None:
    calls: list[tuple[str, int, int | None]] = []
    report = run(db_session, month(tmp_path), uid, progress=lambda *a: calls.append(a))
    stages = [c[0] for c in calls]
    assert stages == ["parse:houses", "parse:persons", "parse:residencies",
                      "apply:houses", "apply:persons", "apply:residencies"]
    assert calls[1] == ("parse:persons", 4, 4)
    data = report.to_dict(mask_ids=True)
    assert data["ok"] and data["counts"]["persons"]["new"] == 4
    assert data["shapes"]["persons"]["new_items"][0]["key"] == mask_id(P1)
    assert P1 not in str(data)


def test_large_extract_round_trip(db_session: Session, uid: int, tmp_path: Path) -> None:
    """A few thousand rows, matched in bulk: first all new, then all unchanged. (Speed is
    measured by `make bench`, not asserted here.)"""
    n = 3_000
    rows = [["", rid(i % 1000, born=f"19{50 + i // 1000 % 50:02d}0101"), f"人{i}", "", "来沪", "", "", ""]
            for i in range(n)]
    path = write_csv(tmp_path / "persons.csv", PERSON_HEAD, rows)
    report = run(db_session, {"persons": path}, uid)
    assert report.ok and report.counts()["persons"]["new"] == n
    report = run(db_session, {"persons": path}, uid)
    assert report.counts()["persons"]["unchanged"] == n


def test_note_lines_count_in_line_numbers(db_session: Session, uid: int, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", PERSON_HEAD, [PERSONS[0], ["居民身份证", "123", "短", "", "", "", "", ""]],
                     comment="# 导出人 centre")
    report = run(db_session, {"persons": path}, uid)
    assert [(e.line, e.errors[0].code) for e in report.errors] == [(4, "id.length")]


def test_closed_residency_is_not_reopened(db_session: Session, uid: int, tmp_path: Path) -> None:
    run(db_session, month(tmp_path / "m1"), uid)
    r = open_residency(db_session, person(db_session, P1))
    assert r is not None
    r.end_date = date(2025, 6, 30)  # a coordinator found them gone
    db_session.commit()

    report = run(db_session, month(tmp_path / "m2"), uid)

    assert report.ok and report.shapes["residencies"].unchanged == 4
    assert [(w.line, w.errors[0].code) for w in report.warnings] == [(2, "extract.kept_closed")]
    db_session.refresh(r)
    assert r.end_date == date(2025, 6, 30)


def test_unreadable_file_is_one_error(db_session: Session, uid: int, tmp_path: Path) -> None:
    broken = tmp_path / "persons.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    files = {**month(tmp_path), "persons": broken}
    report = run(db_session, files, uid)
    # The residency rows naming persons of the broken file are not blamed as well.
    assert [(e.sheet, e.line, e.errors[0].code) for e in report.errors] == [("persons", 0, "file.xlsx")]
    assert report.errors[0].message("en").startswith("Persons: Cannot read")
    assert row_counts(db_session) == (0, 0, 0, 0)


def test_history_row_does_not_take_the_current_stay(db_session: Session, uid: int,
                                                    tmp_path: Path) -> None:
    run(db_session, month(tmp_path / "m1"), uid)
    residencies = [
        [P1, "E001", "承租人", "2023-01-01", "2023-12-31"],  # an earlier stay in the same house
        RESIDENCIES[0],
    ]
    report = run(db_session, {"residencies": write_csv(tmp_path / "r.csv", RES_HEAD, residencies)}, uid)
    rs = report.shapes["residencies"]
    assert [i.key for i in rs.new] == [f"{P1}/E001/2023-01-01"] and rs.unchanged == 1 and not rs.changed
    current = open_residency(db_session, person(db_session, P1))
    assert current is not None and current.start_date == date(2025, 1, 1)
