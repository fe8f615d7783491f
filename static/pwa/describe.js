// Changes in words a coordinator reads: what was done, to whose record (a name, an address),
// which field in Chinese, and the values as the forms show them. The 待同步 screen uses it for
// what waits and for what the centre decided (notices.js).
import {dateTime} from "./clock.js";
import {db} from "./db.js";
import {label, t} from "./i18n.js";
import {address} from "./store.js";
import {open} from "./vault.js";

// The words of each kind of change (i18n keys).
const WHAT = {
  "person/create": "change_person_create", "person/update": "change_person_update",
  "residency/create": "change_residency_create", "residency/update": "change_residency_update",
  "residency/delete": "change_residency_delete", "visit/create": "change_visit_create",
  "house/create": "change_house_create", "house/update": "change_house_update", "house_code/create": "change_code_create",
  "house_flag/create": "change_flag_create", "house_flag/update": "change_flag_update", "house_flag/delete": "change_flag_delete",
  "unit/create": "change_unit_create", "unit/update": "change_unit_update", "unit/delete": "change_unit_delete",
  "room/create": "change_room_create", "room/update": "change_room_update", "room/delete": "change_room_delete",
  "task/update": "change_task_update", "review/update": "change_review_update",
};

export function what(type, op, fields = {}) {
  if (type === "residency" && op === "update" && fields.end_date) return t("move_out");
  if (type === "person" && op === "update" && Object.keys(fields).length === 1 && "permit_endorsed_on" in fields) return t("endorse");
  return t(WHAT[`${type}/${op}`] || "change_other");
}

// A field's name as the forms say it (i18n keys); the record type decides where one word has two meanings.
const FIELD = {name: "name", id_type: "id_type", id_number: "id_number", phone: "phone", category: "category",
  hukou_address: "hukou_address", permit_number: "permit_number", permit_expiry: "permit_expiry", note: "note",
  employer_unit_id: "employer", person_id: "person", house_id: "house", room_id: "room", relation: "relation",
  household_id: "household", start_date: "start_date", end_date: "end_date", end_reason: "end_reason",
  visited_at: "visited_at", outcome: "outcome", lat: "position", lon: "position", accuracy_m: "position", plate_scanned: "plate_scanned",
  cell_id: "cells", road: "road", number: "number", building: "building", unit: "unit_no", floor: "floor",
  use: "house_use", floor_area: "floor_area", living_area: "living_area", kind: "kind", cleared_at: "cleared_at",
  uscc: "uscc", contacts: "contacts", status: "status", reason: "review_reason", result: "task_result",
  closed_at: "closed_at", closed_visit_id: "task_visit", code: "code", _delete: "delete",
  landline: "landline", phone_status: "phone_status", hukou_region: "hukou_region", hukou_road: "hukou_road",
  hukou_number: "hukou_number", hukou_building: "hukou_building", hukou_room: "hukou_room", permit_issued: "permit_issued",
  permit_endorsed_on: "endorsed_on", birth_date: "birth_date", sex: "sex"};

export function fieldName(type, key) {
  if (type === "unit" && key === "name") return t("unit_name");
  if (type === "room" && key === "name") return t("room");
  return t(FIELD[key] || key);
}

const LABELLED = {category: "category", relation: "relation", id_type: "id_type", outcome: "outcome", result: "task_result",
  status: null, sex: "sex", phone_status: "phone_status", use: "use"};

/** A value as a person reads it: labels for codes, local times, names and addresses for references. */
export async function shown(type, key, value) {
  if (value && typeof value === "object" && value.$enc) value = await open(value.$enc).catch(() => "");
  if (value === null || value === undefined || value === "") return t("empty_value");
  if (typeof value === "boolean") return value ? t("yes") : t("no");
  if (key === "kind" && type === "house_flag") return label("flag", value);
  if (key === "kind" && type === "unit") return label("unit_kind", value);
  if (key === "kind" && type === "room") return label("room_kind", value);
  if (key === "status" && type === "review") return label("review_status", value);
  if (LABELLED[key]) return label(LABELLED[key], value);
  if (/_at$/.test(key)) return dateTime(value);
  const d = await db();
  if (key === "house_id") { const house = await d.get("house", value); return house ? address(house) : t("not_on_phone"); }
  if (key === "person_id") { const p = await d.get("person", value); return p?.name || t("not_on_phone"); }
  if (key === "room_id") { const r = await d.get("room", value); return r?.name || t("not_on_phone"); }
  return String(value);
}

/** Whose record a change is about: {who, houseId, address} from the phone's records, or from
 * the values the change carries (a record this phone created, or no longer holds). */
export async function subject(type, recordId, fields = {}) {
  const d = await db();
  const row = (await d.get(type, recordId)) || {};
  const all = {...row, ...Object.fromEntries(Object.entries(fields).filter(([, v]) => typeof v !== "object" || v === null))};
  let who = "", houseId = all.house_id || null;
  if (type === "house") houseId = recordId;
  if (type === "person") {
    who = all.name || "";
    const stay = (await d.getAllFromIndex("residency", "person_id", recordId)).find((r) => !r.end_date);
    houseId = stay?.house_id || null;
  } else if (type === "residency" && all.person_id) {
    who = (await d.get("person", all.person_id))?.name || "";
  } else if (type === "unit" || type === "room") {
    who = all.name || "";
  } else if (type === "review") {
    who = all.person_name || (await d.get("person", all.person_id))?.name || "";
  }
  const house = houseId ? await d.get("house", houseId) : null;
  const place = house ? address(house) : type === "house" ? address(all) : "";
  return {who, houseId: house ? houseId : null, address: place};
}
