"""Plates: codes, assignment, the QR decoded by an independent decoder, sheets and the CLI."""
from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET

import cairosvg
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import csrf_token, login
from tests.plating import give_plate
from webapp.models import AuditEntry, House, HouseCode
from webapp.registry.plates import (
    assign_plates,
    candidate_code,
    plate_url,
    qr_matrix,
    qr_svg,
    spaced,
)
from webapp.validation import parse_house_code

BASE = "https://plates.example.gov.cn/gw"


def _decode(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


def _png_of_matrix(matrix: list[list[bool]], scale: int = 8) -> Image.Image:
    """Rasterise the module matrix ourselves: one scale × scale square per module."""
    size = len(matrix)
    image = Image.new("L", (size, size), 255)
    image.putdata([0 if dark else 255 for row in matrix for dark in row])
    png = io.BytesIO()
    image.resize((size * scale, size * scale), Image.Resampling.NEAREST).save(png, "PNG")
    return Image.open(io.BytesIO(png.getvalue()))


def _png_of_svg(svg: bytes, width: int = 400) -> Image.Image:
    return Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg, output_width=width)))


# --- codes and the QR (no database) --------------------------------------------------


def test_candidate_codes_are_valid_deterministic_and_distinct() -> None:
    house_id = uuid.UUID("6f1c1a52-8a52-4a57-9e7e-2b0f3d1c0a11")
    code = candidate_code(house_id)
    assert parse_house_code(code) == code and len(code) == 10
    assert candidate_code(house_id) == code
    assert candidate_code(house_id, 1) != code
    codes = {candidate_code(uuid.uuid4()) for _ in range(2000)}
    assert len(codes) == 2000


def test_plate_url_and_spacing() -> None:
    assert plate_url(BASE + "/", "ABCDE12345") == BASE + "/h/ABCDE12345"
    assert spaced("ABCDE12345") == "ABCDE 12345"
    assert spaced("TABCDE12345") == "T ABCDE 12345"
    assert spaced("SJ-310117-00042") == "SJ-310117-00042"  # another system's code, as it is
    code = candidate_code(uuid.uuid4())
    assert parse_house_code(spaced(code)) == code  # what is printed types back in as is


def test_png_of_the_matrix_decodes_to_the_url() -> None:
    url = plate_url(BASE, candidate_code(uuid.uuid4()))
    assert _decode(_png_of_matrix(qr_matrix(url))) == [url]


def test_svg_decodes_to_the_url_and_has_no_style_attributes() -> None:
    url = plate_url(BASE, candidate_code(uuid.uuid4()))
    svg = qr_svg(url)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert all("style" not in el.attrib for el in root.iter())
    assert b"<script" not in svg and b"style=" not in svg
    assert _decode(_png_of_svg(svg)) == [url]


# --- assignment ----------------------------------------------------------------------


def test_assign_gives_each_unplated_live_house_one_code(db_session: Session) -> None:
    cell = f.cell(db_session)
    plated = f.house(db_session, cell, code=candidate_code(uuid.uuid4()))
    bare = [f.house(db_session, cell) for _ in range(3)]
    gone = f.house(db_session, cell)
    gone.tombstone(None)
    db_session.commit()

    assigned = assign_plates(db_session)
    db_session.commit()
    assert {a.house_id for a in assigned} == {h.id for h in bare}
    assert all(a.code == candidate_code(a.house_id) for a in assigned)
    assert assign_plates(db_session) == []  # idempotent
    assert db_session.scalar(select(func.count()).select_from(HouseCode)
                             .where(HouseCode.house_id == plated.id)) == 1


def test_a_clash_takes_the_next_candidate(db_session: Session) -> None:
    cell = f.cell(db_session)
    other, house = f.house(db_session, cell), f.house(db_session, cell)
    # Someone else already holds this house's first candidate (a retired plate, say).
    db_session.add(HouseCode(code=candidate_code(house.id), kind="plate", house_id=other.id))
    db_session.commit()
    assigned = {a.house_id: a.code for a in assign_plates(db_session, House.id == house.id)}
    assert assigned == {house.id: candidate_code(house.id, 1)}


def test_a_retired_plate_gets_a_new_code(db_session: Session) -> None:
    house = f.house(db_session, f.cell(db_session))
    db_session.commit()
    first = give_plate(db_session, house)
    second = give_plate(db_session, house)  # retires the first
    assert first != second
    codes = db_session.execute(select(HouseCode.code, HouseCode.retired_at.is_not(None))
                               .where(HouseCode.house_id == house.id)).all()
    assert sorted(codes) == sorted([(first, True), (second, False)])


# --- pages ---------------------------------------------------------------------------


@pytest.fixture
def plated(area, db_session):  # type: ignore[no-untyped-def]
    """Real plate codes for A1 and B1."""
    return {key: give_plate(db_session, area.houses[key]) for key in ("A1", "B1")}


def test_svg_route_decodes_to_the_public_url(app, client, area, plated) -> None:  # type: ignore[no-untyped-def]
    login(client, "coord")
    response = client.get(f"/plates/houses/{area.houses['A1'].id}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    expected = f"{app.config['PUBLIC_BASE_URL']}/h/{plated['A1']}"
    assert _decode(_png_of_svg(response.data)) == [expected]
    # The same matrix as the pure module draws (so PNG and SVG plates agree).
    assert _decode(_png_of_matrix(qr_matrix(expected))) == [expected]
    # Unchanged plate: the browser's copy is still good.
    again = client.get(f"/plates/houses/{area.houses['A1'].id}/qr.svg",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_svg_route_of_a_house_without_plate_is_404(client, area) -> None:  # type: ignore[no-untyped-def]
    login(client, "centre")
    assert client.get(f"/plates/houses/{area.houses['A2'].id}/qr.svg").status_code == 404


def test_cell_sheet_prints_code_and_address_of_each_plated_house(client, area, plated, db_session) -> None:  # type: ignore[no-untyped-def]
    extra = f.house(db_session, area.cells["A1"], building="2")
    db_session.commit()
    login(client, "coord")
    page = client.get(f"/plates/cells/{area.cells['A1'].id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    house = area.houses["A1"]
    assert f"/plates/houses/{house.id}/qr.svg" in html
    assert spaced(plated["A1"]) in html and house.address in html
    assert "css/plates.css" in html and "style=" not in html
    # The new house has no plate yet: the page lists it and offers to assign codes.
    assert f"/plates/cells/{area.cells['A1'].id}/assign" in html and extra.address in html
    assert f"/plates/houses/{extra.id}/qr.svg" not in html
    give_plate(db_session, extra)
    # One building only.
    one = client.get(f"/plates/cells/{area.cells['A1'].id}",
                     query_string={"road": extra.road, "number": extra.number, "building": "2"})
    assert one.status_code == 200
    assert extra.address in one.get_data(as_text=True) and house.address not in one.get_data(as_text=True)
    nowhere = client.get(f"/plates/cells/{area.cells['A1'].id}",
                         query_string={"road": "无此路", "number": "1", "building": ""})
    assert nowhere.status_code == 404


def test_assign_from_the_sheet(client, area, db_session) -> None:  # type: ignore[no-untyped-def]
    cell = area.cells["A2"]
    login(client, "lead")
    token = csrf_token(client, f"/plates/cells/{cell.id}")
    response = client.post(f"/plates/cells/{cell.id}/assign", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/plates/cells/{cell.id}")
    db_session.rollback()
    code = db_session.scalar(select(HouseCode.code).where(HouseCode.house_id == area.houses["A2"].id))
    assert code == candidate_code(area.houses["A2"].id)
    assert db_session.scalar(select(AuditEntry.action).where(AuditEntry.action == "assign_plates"))
    # Houses elsewhere were not touched.
    assert db_session.scalar(select(func.count()).select_from(HouseCode)
                             .where(HouseCode.house_id == area.houses["B1"].id)) == 0


def test_single_plate_page(client, area, plated) -> None:  # type: ignore[no-untyped-def]
    login(client, "comm")
    html = client.get(f"/plates/houses/{area.houses['A1'].id}").get_data(as_text=True)
    assert spaced(plated["A1"]) in html and f"/h/{plated['A1']}" in html
    html = client.get(f"/plates/houses/{area.houses['A2'].id}").get_data(as_text=True)
    assert "qr.svg" not in html and f"/plates/cells/{area.cells['A2'].id}/assign" in html


def test_police_may_not_print_plates(client, area, plated) -> None:  # type: ignore[no-untyped-def]
    login(client, "police")
    assert client.get(f"/plates/houses/{area.houses['A1'].id}").status_code == 403
    assert client.get(f"/plates/houses/{area.houses['A1'].id}/qr.svg").status_code == 403


def test_cli_assigns_missing_codes(runner, area, db_session) -> None:  # type: ignore[no-untyped-def]
    dry = runner.invoke(args=["plates", "assign", "--dry-run"])
    assert dry.exit_code == 0 and "3 plate codes would be assigned" in dry.output
    one = runner.invoke(args=["plates", "assign", "--cell", area.cells["B1"].code])
    assert one.exit_code == 0 and "1 plate codes assigned" in one.output
    rest = runner.invoke(args=["plates", "assign"])
    assert rest.exit_code == 0 and "2 plate codes assigned" in rest.output
    assert runner.invoke(args=["plates", "assign", "--cell", "NOPE"]).exit_code != 0
    db_session.rollback()
    for key in ("A2", "B1", "none"):
        house_id = area.houses[key].id
        code = db_session.scalar(select(HouseCode.code).where(HouseCode.house_id == house_id))
        assert code == candidate_code(house_id)
