"""Reading and checking every row of an extract before anything is written."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from webapp.registry.extract.cells import _Cells, _id_key, _normal_code, _text
from webapp.registry.extract.existing import _Existing
from webapp.registry.extract.read import ExtractSource, _FileProblem, _read_table
from webapp.registry.extract.report import RowIssue, ShapeReport, _ferr
from webapp.registry.extract.rows import _header, _Parsed, _Row
from webapp.registry.extract.spec import HOUSES, PERSONS, RESIDENCIES, UNITS, Column, Shape
from webapp.validation import FieldError, IdType, ValidationError, parse_person_id


class _Checks(_Existing):
    """Parses each shape's rows into _Parsed, collecting every error instead of stopping."""

    # -- reading and checking every row before anything is written --

    def parse(self, shape: Shape, source: ExtractSource, fmt: str | None) -> None:
        stage = f"parse:{shape.key}"
        self.report.shapes[shape.key] = counts = ShapeReport(shape.key)
        rows = _read_table(shape, source, fmt)
        try:
            parsed = self._parse_rows(shape, rows, counts, stage)
        except _FileProblem as exc:
            self.report.errors.append(RowIssue(shape.key, exc.line, (exc.error,)))
            parsed = _Parsed(present=set(), broken=True)
        finally:
            rows.close()  # type: ignore[attr-defined]
        if parsed is None:
            self.report.errors.append(RowIssue(shape.key, 1, (_ferr(
                "file", "extract.empty", "文件为空或没有表头", "The file is empty or has no header row"),)))
            parsed = _Parsed(present=set(), broken=True)
        self.parsed[shape.key] = parsed
        self.progress.end(stage, counts.rows)

    def _parse_rows(self, shape: Shape, rows: Iterator[tuple[int, list[Any]]], counts: ShapeReport,
                    stage: str) -> _Parsed | None:
        parse_row: Callable[[_Parsed, int, dict[str, Any]], None] = getattr(self, f"_parse_{shape.key}")
        parsed: _Parsed | None = None
        index: dict[int, str] = {}
        for line, cells in rows:
            if parsed is None:
                index, errors, warnings = _header(shape, line, cells)
                parsed = _Parsed(present=set(index.values()))
                if warnings:
                    self.report.warnings.append(RowIssue(shape.key, line, tuple(warnings)))
                if errors:  # without its columns every row would repeat the same error
                    self.report.errors.append(RowIssue(shape.key, line, tuple(errors)))
                    parsed.broken = True
                    return parsed
                continue
            if all(_text(c) is None for c in cells):
                continue
            counts.rows += 1
            parse_row(parsed, line, {key: cells[i] if i < len(cells) else None for i, key in index.items()})
            self.progress.tick(stage, counts.rows)
        return parsed

    def _duplicate(self, col: Column, first_line: int) -> FieldError:
        return _ferr(col.key, "extract.duplicate", f"“{col.zh}”与第{first_line}行重复",
                     f"{col.key}: same as line {first_line}")

    def _parse_houses(self, parsed: _Parsed, line: int, raw: dict[str, Any]) -> None:
        cells = _Cells(HOUSES, parsed.present, raw)
        values = cells.values
        code = values.get("external_code")
        if code:
            code = values["external_code"] = _normal_code(code)
            if code in parsed.rows:
                cells.errors.append(self._duplicate(HOUSES.column("external_code"), parsed.rows[code].line))
            elif code in self.dead_codes:
                cells.errors.append(self.dead_codes[code])
        half_point = (values.get("lon") is None) != (values.get("lat") is None)
        if "lon" in values and half_point and not cells.errors:
            cells.errors.append(_ferr("lon", "extract.lonlat", "经度和纬度须同时填写或同时留空",
                                      "Longitude and latitude go together: give both or neither"))
        self._keep("houses", parsed, line, code, values, cells.errors)

    def _parse_units(self, parsed: _Parsed, line: int, raw: dict[str, Any]) -> None:
        cells = _Cells(UNITS, parsed.present, raw)
        values = cells.values
        code = values.get("external_code")
        if code:
            code = values["external_code"] = _normal_code(code)
            if code in parsed.rows:
                cells.errors.append(self._duplicate(UNITS.column("external_code"), parsed.rows[code].line))
        if values.get("house_external_code"):
            values["house_external_code"] = self._known_house(values["house_external_code"], cells.errors)
        self._keep("units", parsed, line, code, values, cells.errors)

    def _parse_persons(self, parsed: _Parsed, line: int, raw: dict[str, Any]) -> None:
        cells = _Cells(PERSONS, parsed.present, raw)
        values = cells.values
        if values.get("phone") and "-" in values["phone"]:
            # A fixed line in the mobile column (police records): it is the person's landline.
            values["landline"], values["phone"] = values.get("landline") or values["phone"], None
            parsed.present.add("landline")
        if values.get("employer_unit_code"):
            values["employer_unit_code"] = self._known_unit(values["employer_unit_code"], cells.errors)
        key = None
        if values.get("id_number") and not any(e.field == "id_type" for e in cells.errors):
            try:
                result = parse_person_id(values["id_number"], values.get("id_type") or IdType.RESIDENT,
                                         field="id_number")
            except ValidationError as exc:
                cells.errors.extend(exc.errors)
            else:
                key = values["id_number"] = result.number
                parsed.id_results[key] = result
                if result.warnings:
                    self.report.warnings.append(RowIssue("persons", line, result.warnings))
                if key in parsed.rows:
                    cells.errors.append(self._duplicate(PERSONS.column("id_number"), parsed.rows[key].line))
        self._keep("persons", parsed, line, key, values, cells.errors)

    def _parse_residencies(self, parsed: _Parsed, line: int, raw: dict[str, Any]) -> None:
        cells = _Cells(RESIDENCIES, parsed.present, raw)
        values = cells.values
        if values.get("id_number"):
            values["id_number"] = self._known_person(values["id_number"], cells.errors)
        if values.get("house_external_code"):
            values["house_external_code"] = self._known_house(values["house_external_code"], cells.errors)
        start, end = values.get("start_date"), values.get("end_date")
        if start and end and end < start:
            cells.errors.append(_ferr("end_date", "extract.end_before_start", "“迁出日期”早于“入住日期”",
                                      "end_date is before start_date"))
        key = (values.get("id_number"), values.get("house_external_code"), start)
        if not cells.errors:
            cells.errors += self._residency_clashes(parsed, key, end is None)
        self._keep("residencies", parsed, line, key, values, cells.errors)

    def _known_person(self, text: str, errors: list[FieldError]) -> str:
        key, id_errors = _id_key(text)
        persons = self.parsed.get("persons")
        if key in self.persons or (persons and persons.knows(key)):
            return key
        errors.extend(id_errors or [_ferr(
            "id_number", "extract.unknown_person", f"证件号码{key}在人口表和系统中都不存在",
            f"No person with ID number {key} in the persons sheet or the registry")])
        return key

    def _known_house(self, text: str, errors: list[FieldError]) -> str:
        code = _normal_code(text)
        houses = self.parsed.get("houses")
        if code in self.houses or (houses and houses.knows(code)):
            return code
        errors.append(self.dead_codes.get(code) or _ferr(
            "house_external_code", "extract.unknown_house", f"房屋外部编码{code}在房屋表和系统中都不存在",
            f"No house with external code {code} in the houses sheet or the registry"))
        return code

    def _known_unit(self, text: str, errors: list[FieldError]) -> str:
        code = _normal_code(text)
        units = self.parsed.get("units")
        if code not in self.units and not (units and units.knows(code)):
            errors.append(_ferr("employer_unit_code", "extract.unknown_unit", f"单位编码{code}在单位表和系统中都不存在",
                                f"No unit with code {code} in the units sheet or the registry"))
        return code

    def _residency_clashes(self, parsed: _Parsed, key: tuple[Any, ...], is_open: bool) -> list[FieldError]:
        if key in parsed.rows:
            return [self._duplicate(RESIDENCIES.column("start_date"), parsed.rows[key].line)]
        other = parsed.open_lines.get(key[0]) if is_open else None
        if other:  # one open residency per person: the file may not put someone in two places
            return [_ferr("end_date", "extract.two_open", f"同一人在第{other}行还有一条未迁出的居住记录",
                          f"The same person has another open residency on line {other}")]
        return []

    def _keep(self, shape: str, parsed: _Parsed, line: int, key: Any, values: dict[str, Any],
              errors: list[FieldError]) -> None:
        if errors:
            self.report.errors.append(RowIssue(shape, line, tuple(errors)))
            if key is not None:
                parsed.bad_keys.add(key)
            return
        parsed.rows[key] = _Row(line, values)
        if shape == "residencies" and values.get("end_date") is None:
            parsed.open_lines[key[0]] = line
