// The other things done at a door: move-out, visit, flag, new house, a unit.
import {db} from "../db.js";
import {choices, label, msg, t} from "../i18n.js";
import {save} from "../outbox.js";
import {field, formValues, h, show, showErrors, toast, uuid} from "../ui.js";
import {dayProblem, makeTempHouseCode, parseUscc, shanghaiToday} from "../validation.js";

function page(title, houseId, fields, onSave) {
  const form = h("form", {class: "card", novalidate: true, "aria-label": title}, ...fields,
    h("div", {class: "actions"}, h("button", {type: "submit"}, t("save")),
      h("a", {class: "button ghost", href: houseId ? `#/house/${houseId}` : "#/cells"}, t("cancel"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const result = await onSave(formValues(form), form);
      if (Array.isArray(result) && result.length) return showErrors(form, result, msg);
      toast(t("saved"));
      location.hash = result?.go || (houseId ? `#/house/${houseId}` : "#/cells");
    } finally { button.disabled = false; }
  });
  show(h("h1", {}, title), form);
}

export async function moveOut(houseId, residencyId) {
  const r = await (await db()).get("residency", residencyId);
  const p = await (await db()).get("person", r.person_id);
  page(`${t("move_out")}：${p?.name || ""}`, houseId, [
    field(t("end_date"), "end_date", {kind: "date", value: shanghaiToday(), required: true}),
    field(t("end_reason"), "end_reason", {maxlength: 100})], async (v) => {
    if (!v.end_date) return [{field: "end_date", zh: "迁出日期必填", en: "The move-out date is required"}];
    const outside = dayProblem(v.end_date, "end_date");
    if (outside) return [outside];
    if (v.end_date < r.start_date) return [{field: "end_date", zh: "迁出日期早于入住日期", en: "the move-out date is before the move-in date"}];
    const fields = {end_date: v.end_date, end_reason: v.end_reason || null};
    await save([{type: "residency", op: "update", record_id: residencyId, base_version: r.version ?? null, fields,
      base: {end_date: r.end_date ?? null, end_reason: r.end_reason ?? null}, local: fields}]);
    return [];
  });
}

function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition((p) => resolve(p.coords), () => resolve(null),
      {enableHighAccuracy: true, timeout: 8000, maximumAge: 60000});
  });
}

export function visit(houseId, scanned) {
  page(t("record_visit"), houseId, [
    field(t("outcome"), "outcome", {kind: "select", options: choices("outcome"), value: "verified"}),
    field(t("note"), "note", {kind: "textarea", maxlength: 200}),
    field(t("gps"), "gps", {kind: "checkbox", value: true}),
    field(t("plate_scanned"), "plate_scanned", {kind: "checkbox", value: scanned})], async (v, form) => {
    const fields = {house_id: houseId, visited_at: new Date().toISOString(), outcome: v.outcome,
      plate_scanned: form.plate_scanned.checked, note: v.note || null};
    if (form.gps.checked) {
      const c = await position();
      if (c) Object.assign(fields, {lat: c.latitude, lon: c.longitude, accuracy_m: c.accuracy});
    }
    await save([{type: "visit", op: "create", record_id: uuid(), base_version: null, fields, local: fields}]);
    return [];
  });
}

export async function flag(houseId) {
  // One open flag of a kind per house (the server's rule): offer only the kinds not yet open.
  const open = new Set((await (await db()).getAllFromIndex("house_flag", "house_id", houseId))
    .filter((f) => !f.cleared_at).map((f) => f.kind));
  const kinds = choices("flag").filter(([k]) => !open.has(k));
  if (!kinds.length) { toast(t("flags_all_open")); location.hash = `#/house/${houseId}`; return; }
  page(t("flag"), houseId, [
    field(t("kind"), "kind", {kind: "select", options: kinds, value: kinds[0][0]}),
    field(t("note"), "note", {kind: "textarea", maxlength: 200})], async (v) => {
    const fields = {house_id: houseId, kind: v.kind, note: v.note || null};
    await save([{type: "house_flag", op: "create", record_id: uuid(), base_version: null, fields, local: fields}]);
    return [];
  });
}

/** Resolve a flag: it stays in the house's history with when it was cleared and why. */
export async function clearFlag(houseId, flagId) {
  const f = await (await db()).get("house_flag", flagId);
  if (!f || f.cleared_at) { location.hash = `#/house/${houseId}`; return; }
  page(`${t("flag_clear")}：${label("flag", f.kind)}`, houseId, [
    field(t("note"), "note", {kind: "textarea", maxlength: 200, value: f.note || ""})], async (v) => {
    const fields = {cleared_at: new Date().toISOString()};
    if ((v.note || null) !== (f.note ?? null)) fields.note = v.note || null;
    const base = Object.fromEntries(Object.keys(fields).map((k) => [k, f[k] ?? null]));
    await save([{type: "house_flag", op: "update", record_id: flagId, base_version: f.version ?? null, fields, base, local: fields}]);
    return [];
  });
}

/** Note a unit at the house, or edit one (`unitId`), or close it (a unit gone from the house). */
export async function unit(houseId, unitId = null) {
  const before = unitId ? await (await db()).get("unit", unitId) : null;
  if (unitId && !before) { location.hash = `#/house/${houseId}`; return; }
  const was = {name: before?.name || "", uscc: before?.uscc || "", kind: before?.kind || "enterprise"};
  page(before ? `${t("unit_edit")}：${before.name || ""}` : t("add_unit"), houseId, [
    field(t("unit_name"), "name", {required: true, maxlength: 100, value: was.name}),
    field(t("uscc"), "uscc", {autocomplete: "off", value: was.uscc}),
    field(t("kind"), "kind", {kind: "select", options: choices("unit_kind"), value: was.kind})], async (v) => {
    const errors = [];
    let uscc = null;
    if (!v.name) errors.push({field: "name", zh: "单位名称必填", en: "The name is required"});
    if (v.uscc) { try { uscc = parseUscc(v.uscc); } catch (e) { errors.push(...e.errors); } }
    if (errors.length) return errors;
    const after = {name: v.name, uscc, kind: v.kind};
    if (!before) {
      const fields = {house_id: houseId, ...after};
      await save([{type: "unit", op: "create", record_id: uuid(), base_version: null, fields, local: fields}]);
      return [];
    }
    const changed = Object.keys(after).filter((k) => (after[k] ?? null) !== (before[k] ?? null));
    if (!changed.length) return [];
    const fields = Object.fromEntries(changed.map((k) => [k, after[k]]));
    const base = Object.fromEntries(changed.map((k) => [k, before[k] ?? null]));
    await save([{type: "unit", op: "update", record_id: unitId, base_version: before.version ?? null, fields, base, local: fields}]);
    return [];
  });
  if (before) {
    const close = h("button", {type: "button", class: "danger", id: "unit-close"}, t("unit_close"));
    close.addEventListener("click", async () => {
      if (!confirm(t("unit_close_confirm"))) return;
      close.disabled = true;
      // base says "not deleted when I saw it": the merge takes the close even when the unit
      // changed meanwhile, or was created on this phone and its server version is unknown here.
      await save([{type: "unit", op: "delete", record_id: unitId, base_version: before.version ?? 0, fields: {},
        base: {deleted_at: null}, local: {}}]);
      toast(t("saved"));
      location.hash = `#/house/${houseId}`;
    });
    document.querySelector("#view form .actions").append(close);
  }
}

export function newHouse(cellId) {
  page(t("add_house"), null, [
    field(t("road"), "road", {required: true, maxlength: 64}), field(t("number"), "number", {required: true, maxlength: 16}),
    field(t("building"), "building", {maxlength: 16}), field(t("unit_no"), "unit", {maxlength: 16}),
    field(t("floor"), "floor", {kind: "number", inputmode: "numeric"}), field(t("room"), "room", {maxlength: 16}),
    field(t("house_use"), "use", {kind: "select", options: choices("use"), value: "owner_occupied"}),
    field(`${t("living_area")}（m²）`, "living_area", {kind: "number", inputmode: "decimal", step: "0.1"})], async (v) => {
    const errors = ["road", "number"].filter((k) => !v[k]).map((k) => ({field: k, zh: `${t(k)}必填`, en: `${k} is required`}));
    const living = (await import("./housing.js")).area(v.living_area, "living_area", errors);
    if (errors.length) return errors;
    const houseId = uuid();
    const fields = {cell_id: cellId, road: v.road, number: v.number, building: v.building || null, unit: v.unit || null,
      floor: v.floor ? Number(v.floor) : null, room: v.room || null, use: v.use, living_area: living};
    const code = {code: await makeTempHouseCode(houseId), kind: "temporary", house_id: houseId};
    await save([
      {type: "house", op: "create", record_id: houseId, base_version: null, fields, local: fields},
      {type: "house_code", op: "create", record_id: uuid(), base_version: null, fields: code, local: code}]);
    return {go: `#/house/${houseId}`};
  });
}
