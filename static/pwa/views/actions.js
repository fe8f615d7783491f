// The other things done at a door: move-out, visit, flag, new house, a unit.
import {db} from "../db.js";
import {choices, msg, t} from "../i18n.js";
import {save} from "../outbox.js";
import {field, formValues, h, show, showErrors, toast, uuid} from "../ui.js";
import {makeTempHouseCode, parseUscc, shanghaiToday} from "../validation.js";

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

export function flag(houseId) {
  page(t("flag"), houseId, [
    field(t("kind"), "kind", {kind: "select", options: choices("flag"), value: "group_rent"}),
    field(t("note"), "note", {kind: "textarea", maxlength: 200})], async (v) => {
    const fields = {house_id: houseId, kind: v.kind, note: v.note || null};
    await save([{type: "house_flag", op: "create", record_id: uuid(), base_version: null, fields, local: fields}]);
    return [];
  });
}

export function unit(houseId) {
  page(t("add_unit"), houseId, [
    field(t("unit_name"), "name", {required: true, maxlength: 100}),
    field(t("uscc"), "uscc", {autocomplete: "off"}),
    field(t("kind"), "kind", {kind: "select", options: choices("unit_kind"), value: "enterprise"})], async (v) => {
    const errors = [];
    let uscc = null;
    if (!v.name) errors.push({field: "name", zh: "单位名称必填", en: "The name is required"});
    if (v.uscc) { try { uscc = parseUscc(v.uscc); } catch (e) { errors.push(...e.errors); } }
    if (errors.length) return errors;
    const fields = {house_id: houseId, name: v.name, uscc, kind: v.kind};
    await save([{type: "unit", op: "create", record_id: uuid(), base_version: null, fields, local: fields}]);
    return [];
  });
}

export function newHouse(cellId) {
  page(t("add_house"), null, [
    field(t("road"), "road", {required: true, maxlength: 64}), field(t("number"), "number", {required: true, maxlength: 16}),
    field(t("building"), "building", {maxlength: 16}), field(t("unit_no"), "unit", {maxlength: 16}),
    field(t("floor"), "floor", {kind: "number", inputmode: "numeric"}), field(t("room"), "room", {maxlength: 16})], async (v) => {
    const errors = ["road", "number"].filter((k) => !v[k]).map((k) => ({field: k, zh: `${t(k)}必填`, en: `${k} is required`}));
    if (errors.length) return errors;
    const houseId = uuid();
    const fields = {cell_id: cellId, road: v.road, number: v.number, building: v.building || null, unit: v.unit || null,
      floor: v.floor ? Number(v.floor) : null, room: v.room || null};
    const code = {code: await makeTempHouseCode(houseId), kind: "temporary", house_id: houseId};
    await save([
      {type: "house", op: "create", record_id: houseId, base_version: null, fields, local: fields},
      {type: "house_code", op: "create", record_id: uuid(), base_version: null, fields: code, local: code}]);
    return {go: `#/house/${houseId}`};
  });
}
