"""static/pwa/validation.js runs every case of tests/vectors/validation.json in the browser and
gives the same answers as webapp.validation (tests/test_validation.py runs the Python side)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from webapp.validation import area_codes

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "validation.json").read_text("utf-8"))
ID_GROUPS = ("resident_id", "legacy_id", "hmt_permit", "foreign_permanent", "passport")

RUN = """async ({vectors, groups, areas, counties}) => {
  const v = await import('/static/pwa/validation.js');
  // No check message names a character the user could take for the expected one.
  const silent = (e, x) => [e.zh, e.en].every((m) => !m.includes(x) && !m.includes('应为') && !m.includes('expected')
    && !/[0-9]|(?<![A-Za-z])[A-Z](?![A-Za-z])/.test(m));
  v.setKnownAreaCodes(areas);
  const today = vectors.today, out = [];
  const err = (fn) => { try { fn(); return {ok: true}; } catch (e) {
    if (!(e instanceof v.ValidationError)) return {crash: String(e)};
    return {errors: e.errors}; } };
  for (const g of groups) {
    const type = vectors[g].id_type;
    for (const row of vectors[g].valid) {
      let got; try { got = v.parsePersonId(row.input, type, {today}); } catch (e) { got = {error: String(e)}; }
      out.push({case: `${g}/valid/${row.id}`, want: [row.number, row.birth_date, row.sex, row.area_code, row.legacy, row.warnings],
                got: got.error ? got.error : [got.number, got.birth_date, got.sex, got.area_code, got.legacy, got.warnings.map((w) => w.code)]});
    }
    for (const row of vectors[g].invalid) {
      const r = err(() => v.parsePersonId(row.input, type, {field: 'guardian_id', today}));
      const e = (r.errors || [])[0] || {};
      const okMsg = !row.expected_check || silent(e, row.expected_check);
      out.push({case: `${g}/invalid/${row.id}`, want: [row.error, 'guardian_id', 1, true],
                got: [e.code, e.field, (r.errors || []).length, Boolean(e.zh && e.en && okMsg)]});
    }
  }
  for (const row of vectors.check_char_gb11643)
    out.push({case: `check/${row.id}`, want: row.check, got: v.checkCharGb11643(row.first17)});
  for (const row of vectors.uscc.valid) out.push({case: `uscc/valid/${row.id}`, want: row.code, got: v.parseUscc(row.input)});
  for (const row of vectors.uscc.invalid) {
    const r = err(() => v.parseUscc(row.input, 'employer_uscc')); const e = r.errors[0];
    out.push({case: `uscc/invalid/${row.id}`, want: [row.error, 'employer_uscc', true],
              got: [e.code, e.field, !row.expected_check || silent(e, row.expected_check)]});
  }
  const ll = vectors.landline;
  for (const row of ll.valid) out.push({case: `landline/valid/${row.id}`, want: row.number, got: v.parseLandline(row.input, 'landline', ll.default_area)});
  for (const row of ll.invalid) {
    const e = err(() => v.parseLandline(row.input, 'landline', ll.default_area)).errors[0];
    out.push({case: `landline/invalid/${row.id}`, want: [row.error, 'landline'], got: [e.code, e.field]});
  }
  v.setCounties(counties);
  for (const row of vectors.region.valid) out.push({case: `region/valid/${row.id}`, want: row.code, got: v.parseRegion(row.input)});
  for (const row of vectors.region.invalid) {
    const e = err(() => v.parseRegion(row.input)).errors[0];
    out.push({case: `region/invalid/${row.id}`, want: [row.error, 'hukou_region'], got: [e.code, e.field]});
  }
  for (const row of vectors.mobile.valid) out.push({case: `mobile/valid/${row.id}`, want: row.number, got: v.parseMobile(row.input)});
  for (const row of vectors.mobile.invalid) {
    const e = err(() => v.parseMobile(row.input)).errors[0];
    out.push({case: `mobile/invalid/${row.id}`, want: [row.error, 'phone'], got: [e.code, e.field]});
  }
  const hc = vectors.house_code;
  out.push({case: 'house/alphabet', want: hc.alphabet, got: v.ALPHABET});
  for (const row of hc.valid) out.push({case: `house/valid/${row.id}`, want: row.code, got: v.parseHouseCode(row.input)});
  for (const row of hc.invalid) {
    const e = err(() => v.parseHouseCode(row.input, 'plate')).errors[0];
    out.push({case: `house/invalid/${row.id}`, want: [row.error, 'plate'], got: [e.code, e.field]});
  }
  for (const row of hc.make) out.push({case: `house/make/${row.body}`, want: row.code, got: v.makeHouseCode(row.body)});
  for (const row of hc.temp) {
    const code = await v.makeTempHouseCode(row.uuid);
    out.push({case: `house/temp/${row.uuid}`, want: [row.code, true], got: [code, v.isTempHouseCode(v.parseHouseCode(code))]});
  }
  out.push({case: 'days/window', want: [vectors.days.first, vectors.days.last], got: [...v.DAYS]});
  for (const day of vectors.days.valid) out.push({case: `days/valid/${day}`, want: null, got: v.dayProblem(day, 'start_date')});
  for (const day of vectors.days.invalid) {
    const e = v.dayProblem(day, 'start_date') || {};
    out.push({case: `days/invalid/${day}`, want: ['field.range', 'start_date', true], got: [e.code, e.field, Boolean(e.zh && e.en)]});
  }
  out.push({case: 'mask/id', want: ['110***********002X', 'E******78', '', '***'],
            got: ['11010519491231002X', 'E12345678', '', 'ABC'].map(v.maskId)});
  out.push({case: 'mask/phone', want: ['138****5678', '138****5678', '021*****1234', ''],
            got: ['13812345678', '+86 138-1234-5678', '021-6789 1234', ''].map(v.maskPhone)});
  return out;
}"""


def test_js_validation_matches_the_shared_vectors(page: Page) -> None:
    page.goto("/login")  # any page of our origin, so the module loads under our CSP
    results: list[dict[str, Any]] = page.evaluate(
        RUN, {"vectors": VECTORS, "groups": list(ID_GROUPS), "areas": sorted(area_codes._table()),
              "counties": area_codes.county_codes()})
    expected = sum(len(VECTORS[g][k]) for g in ID_GROUPS for k in ("valid", "invalid"))
    expected += len(VECTORS["check_char_gb11643"]) + sum(len(VECTORS[g][k]) for g in ("uscc", "mobile")
                                                          for k in ("valid", "invalid"))
    expected += 1 + sum(len(VECTORS["house_code"][k]) for k in ("valid", "invalid", "make", "temp")) + 2
    expected += sum(len(VECTORS[g][k]) for g in ("landline", "region") for k in ("valid", "invalid"))
    expected += 1 + len(VECTORS["days"]["valid"]) + len(VECTORS["days"]["invalid"])
    assert len(results) == expected
    wrong = [r for r in results if r["want"] != r["got"]]
    assert not wrong, wrong
