"""The extract pages: upload and import (centre only), scoped and audited exports."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import csrf_token, login
from webapp.models import AuditEntry, Person

PERSONS_CSV = (
    "证件类型,证件号码,姓名,手机,人员类别\n"
    "resident,31011719900315021{c},赵六,13900002222,来沪\n"
)


def _valid_csv() -> bytes:
    from webapp.validation import check_char_gb11643

    return PERSONS_CSV.format(c=check_char_gb11643("31011719900315021")).encode("utf-8-sig")


def test_centre_imports_an_upload(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    token = csrf_token(client, "/extract/")
    data = {"csrf_token": token, "persons": (io.BytesIO(_valid_csv()), "persons.csv")}
    response = client.post("/extract/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "导入完成" in response.get_data(as_text=True)
    db_session.rollback()
    assert db_session.scalar(select(Person.name).where(Person.name == "赵六")) == "赵六"
    assert db_session.scalar(select(AuditEntry.action).where(AuditEntry.action == "import_extract"))


def test_dry_run_and_bad_rows_write_nothing(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    before = db_session.scalar(select(func.count()).select_from(Person))
    token = csrf_token(client, "/extract/")
    dry = {"csrf_token": token, "dry_run": "y", "persons": (io.BytesIO(_valid_csv()), "p.csv")}
    assert client.post("/extract/import", data=dry, content_type="multipart/form-data").status_code == 200
    bad = {"csrf_token": token,
           "persons": (io.BytesIO("证件号码,姓名\n110105194912310021,坏\n".encode()), "p.csv")}
    response = client.post("/extract/import", data=bad, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "第2行" in response.get_data(as_text=True) or "line 2" in response.get_data(as_text=True)
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Person)) == before


def test_only_the_centre_imports(client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    token = csrf_token(client, "/extract/")
    data = {"csrf_token": token, "persons": (io.BytesIO(_valid_csv()), "p.csv")}
    assert client.post("/extract/import", data=data, content_type="multipart/form-data").status_code == 403


def test_committee_export_is_scoped_masked_and_audited(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    response = client.get("/extract/export/persons.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    text = "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "comm" in text and "脱敏" in text  # the note: who, and that IDs are masked
    assert "王A1" in text and "王B1" not in text and "王none" not in text
    assert area.persons["A1"].id_number not in text and "110***********002X" in text
    db_session.rollback()
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "export_extract"))
    assert entry is not None and entry.detail["rows"] >= 1 and entry.detail["full_ids"] is False


def test_centre_export_has_full_ids(client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    body = client.get("/extract/export/persons.csv").data.decode("utf-8-sig")
    assert area.persons["B1"].id_number in body and body.startswith("#")
