"""The extract since issue 18: the structured hukou address, fixed lines, the permit's dates, and
units with their employees, imported and exported in the same columns (a round trip changes
nothing)."""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.test_extract import HOUSE_HEAD, HOUSES, RES_HEAD, RESIDENCIES, person, rid, run, uid, versions, write_csv
from webapp.models import Unit
from webapp.models.enums import Role
from webapp.registry.extract import export_extract
from webapp.registry.rules import evaluate
from webapp.validation import uscc_check_char

__all__ = ["uid"]  # the fixture, imported for the tests below

P1, P2, P3 = rid(11), rid(12), rid(13)
CODE = "91310117MA1J3K4L5"
USCC = CODE + uscc_check_char(CODE)
UNIT_HEAD = ["单位编码", "单位名称", "统一社会信用代码", "单位类型", "房屋外部编码"]
UNITS = [["U001", "谷阳物流公司", USCC, "企业", "E001"], ["U002", "谷阳物流分部", USCC, "enterprise", ""]]
PERSON_HEAD = ["证件类型", "证件号码", "姓名", "手机", "固定电话", "无电话原因", "人员类别", "户籍区县代码", "户籍路名",
               "户籍门牌号", "户籍楼号", "户籍室号", "居住证号", "居住证签发日期", "居住证有效期", "居住证签注日期",
               "工作单位编码"]
PERSONS = [
    ["居民身份证", P1, "张一", "13800000001", "", "", "来沪", "340102", "长江路", "8号", "", "", "SH1", "2025-12-10",
     "2028-12-10", "", "U001"],
    ["居民身份证", P2, "张二", "021-5781 2345", "", "", "人户分离", "310117", "人民北路", "105号", "2栋", "302室", "", "",
     "", "", "U001"],
    ["居民身份证", P3, "张三", "", "", "无电话", "户籍", "310117", "谷阳北路", "88弄", "2", "502", "", "", "", "", ""],
]


def files(tmp: Path, units: list[list[str]] = UNITS, persons: list[list[str]] = PERSONS) -> dict[str, Path]:
    return {"houses": write_csv(tmp / "houses.csv", HOUSE_HEAD, HOUSES),
            "units": write_csv(tmp / "units.csv", UNIT_HEAD, units),
            "persons": write_csv(tmp / "persons.csv", PERSON_HEAD, persons),
            "residencies": write_csv(tmp / "residencies.csv", RES_HEAD, [r for r in RESIDENCIES if r[0] in (P1, P2, P3)])}


def test_units_hukou_phones_and_permits_are_imported(db_session: Session, uid: int, tmp_path: Path) -> None:
    report = run(db_session, files(tmp_path), uid)
    assert report.ok, report.summary_lines("en")
    assert report.counts()["units"] == {"rows": 2, "new": 2, "changed": 0, "unchanged": 0, "gone": 0}
    firm = db_session.scalar(select(Unit).where(Unit.external_code == "U001"))
    assert (firm.name, firm.uscc, firm.kind, firm.house.road) == ("谷阳物流公司", USCC, "enterprise", "谷阳北路")
    one, two, three = person(db_session, P1), person(db_session, P2), person(db_session, P3)
    assert (one.hukou_region, one.permit_issued, one.employer_unit_id) == ("340102", date(2025, 12, 10), firm.id)
    # A fixed line in the mobile column is the person's landline.
    assert (two.phone, two.landline, two.hukou_key, two.hukou_room_key) == (None, "021-57812345", "人民北路|105|2", "302")
    assert (three.phone_status, three.hukou_key) == ("none", "谷阳北路|88弄|2")
    # The two units sharing a credit code are imported and found by the duplicates rule.
    flags = evaluate(db_session, today=date(2026, 11, 26), codes=("duplicates",))
    assert [fl.kind for fl in flags] == ["same_uscc"]
    # 张三 lives at E002 (谷阳北路88弄2号楼502室): at home; nobody lacks a phone.
    found = {(fl.record_id, fl.kind) for fl in evaluate(db_session, today=date(2026, 11, 26),
                                                         codes=("hukou_separation", "accuracy"))}
    assert (three.id, "should_be_separated") not in found and not {k for _, k in found} & {"no_phone", "no_hukou_address"}


def test_an_export_re_imports_unchanged(db_session: Session, uid: int, tmp_path: Path) -> None:
    run(db_session, files(tmp_path), uid)
    before = versions(db_session)
    out = tmp_path / "again"
    out.mkdir()
    again = {}
    for shape in ("houses", "units", "persons", "residencies"):
        buf = io.BytesIO()
        export_extract(db_session, shape, "csv", buf, header_note="round trip")
        (out / f"{shape}.csv").write_bytes(buf.getvalue())
        again[shape] = out / f"{shape}.csv"
    report = run(db_session, again, uid)
    assert report.ok, report.summary_lines("en")
    assert {k: c["changed"] + c["new"] for k, c in report.counts().items()} == dict.fromkeys(again, 0)
    assert versions(db_session) == before


def test_bad_rows_say_what_is_wrong_and_never_the_check_character(db_session: Session, uid: int,
                                                                    tmp_path: Path) -> None:
    bad_code = USCC[:-1] + ("0" if USCC[-1] != "0" else "1")
    units = [["U001", "谷阳物流公司", bad_code, "企业", "E001"], ["U002", "分部", "", "", ""], ["U002", "重复编码", "", "", ""]]
    persons = [[*PERSONS[0][:7], "310108", *PERSONS[0][8:16], "U999"], PERSONS[1], PERSONS[2]]
    report = run(db_session, files(tmp_path, units, persons), uid)
    assert not report.ok and not report.written
    codes = {e.code for issue in report.errors for e in issue.errors}
    assert codes == {"uscc.check", "extract.duplicate", "region.unknown", "extract.unknown_unit"}
    text = "\n".join(report.summary_lines("zh"))
    assert f"应为{USCC[-1]}" not in text and "校验不通过" in text


def test_a_masked_export_hides_the_hukou_address_and_masks_landlines(db_session: Session, uid: int,
                                                                     tmp_path: Path) -> None:
    run(db_session, files(tmp_path), uid)
    buf = io.BytesIO()
    export_extract(db_session, "persons", "csv", buf, header_note="police", role=Role.POLICE)
    text = buf.getvalue().decode("utf-8-sig")
    assert "人民北路" not in text and "57812345" not in text and "021*****2345" in text
    assert "U001" in text  # the employer is not personal data
