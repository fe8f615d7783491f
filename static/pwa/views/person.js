// Add an occupant (person + residency) or edit a person; the ID number is checked here first.
import {save} from "../outbox.js";
import {choices, label, msg, t} from "../i18n.js";
import {local as localOf, opened} from "../personal.js";
import {byIdNumber, byPhoneInHouse} from "../known.js";
import {address, permitDue, rooms as roomsOf} from "../store.js";
import {permitTag} from "./places.js";
import {field, formValues, h, show, showErrors, toast, uuid} from "../ui.js";
import {dayProblem, parseLandline, parseMobile, parsePersonId, parseRegion, shanghaiToday, ValidationError} from "../validation.js";
import {db} from "../db.js";
import {hukouPlace} from "../address.js";
import {areaLists, regionName, regionPicker} from "../regions.js";

const meta = (name, fallback) => document.querySelector(`meta[name="${name}"]`)?.content || fallback;
/** LANDLINE_AREA_CODE, HOME_REGION and HUKOU_MATCH_LEVEL, as the shell carries them. */
export const landlineArea = () => meta("gw-landline-area", "021");
const HUKOU = ["hukou_region", "hukou_road", "hukou_number", "hukou_building", "hukou_room"];
const PERMIT = ["permit_number", "permit_issued", "permit_expiry"];

/** The form's checks, the server's rules (validation.js); `editable` says which fields the form
 * has (a masked ID is not checked). Returns the errors and the values as they are sent. */
function check(values, editable = (_name) => true) {
  const errors = [];
  let id = null;
  const parsed = {};
  const attempt = (name, parse) => {
    if (!values[name] || !editable(name)) return;
    try { parsed[name] = parse(values[name]); } catch (e) { if (e instanceof ValidationError) errors.push(...e.errors); else throw e; }
  };
  if (!values.name) errors.push({field: "name", code: "field.required", zh: "姓名必填", en: "Name is required"});
  if (editable("id_number")) {
    try { id = parsePersonId(values.id_number, values.id_type); } catch (e) { if (e instanceof ValidationError) errors.push(...e.errors); else throw e; }
  }
  attempt("phone", (v) => parseMobile(v));
  attempt("landline", (v) => parseLandline(v, "landline", landlineArea()));
  attempt("hukou_region", (v) => parseRegion(v));
  for (const name of ["permit_issued", "permit_expiry", "start_date"]) {
    const problem = editable(name) ? dayProblem(values[name], name) : null;
    if (problem) errors.push(problem);
  }
  if (values.permit_issued && values.permit_expiry && values.permit_issued >= values.permit_expiry) {
    errors.push({field: "permit_expiry", code: "permit.dates", zh: "居住证有效期应晚于签发日期", en: "the permit's expiry must be after its issue date"});
  }
  return {errors, id, phone: parsed.phone || values.phone || null, landline: parsed.landline || values.landline || null};
}

/** The units the person may work for: those on this phone, this house's first. */
async function employers(houseId) {
  const units = (await (await db()).getAll("unit")).filter((u) => !u.deleted_at);
  units.sort((a, b) => Number(b.house_id === houseId) - Number(a.house_id === houseId) || String(a.name).localeCompare(String(b.name), "zh"));
  return [["", t("employer_none")], ...units.map((u) => [u.id, u.name || "?"])];
}

/** Phones, the hukou address (district picked from the list), the permit and the employer:
 * the fields the add and edit forms share. `have(k)` says which the role may edit; `shown(k)`
 * renders one it sees masked. */
async function registryFields(p, houseId, have = (_k) => true, shown = (_k) => null) {
  const input = (k, extra = {}) => (have(k) ? field(t(k), k, {value: p[k] || "", autocomplete: "off", ...extra}) : shown(k));
  const region = have("hukou_region")
    ? await regionPicker({province: t("hukou_province"), county: t("hukou_region"), choose: t("choose")}, p.hukou_region || "")
    : shown("hukou_region");
  return [
    input("landline", {kind: "tel", inputmode: "tel"}),
    h("p", {class: "hint"}, t("landline_hint").replace("{area}", landlineArea())),
    input("phone_status", {kind: "select", options: [["", t("phone_given")], ...choices("phone_status")]}),
    h("fieldset", {class: "group", id: "hukou"}, h("legend", {}, t("hukou_address")), region,
      input("hukou_road", {maxlength: 64}), input("hukou_number", {maxlength: 16}),
      input("hukou_building", {maxlength: 16}), input("hukou_room", {maxlength: 16}),
      h("p", {class: "hint", id: "hukou-place", "aria-live": "polite"})),
    h("fieldset", {class: "group", id: "permit"}, h("legend", {}, t("permit")),
      input("permit_number", {maxlength: 32}), input("permit_issued", {kind: "date"}), input("permit_expiry", {kind: "date"})),
    have("employer_unit_id") ? field(t("employer"), "employer_unit_id", {kind: "select", value: p.employer_unit_id || "",
      options: await employers(houseId)}) : null,
  ];
}

/** Says, as the address is typed, whether it is this house (人户一致) and whether the chosen
 * category agrees: the 人户分离 rule's comparison (address.js), before anything is saved. */
function hukouHint(form, house) {
  const out = form.querySelector("#hukou-place");
  if (!out || !house) return;
  const update = () => {
    const v = formValues(form);
    if (!form.querySelector('[name="hukou_road"]')) return;
    const place = hukouPlace({region: v.hukou_region, road: v.hukou_road, number: v.hukou_number,
      building: v.hukou_building, room: v.hukou_room}, house, {homeRegion: meta("gw-home-region", "310117"),
      level: meta("gw-hukou-level", "address")});
    const local = /^31/.test(v.hukou_region || "");
    let text = place === "same" ? t("hukou_same") : place === "elsewhere" ? (local ? t("hukou_elsewhere") : t("hukou_outside")) : "";
    const wrong = (place === "same" && v.category === "separated") || (place === "elsewhere" && local && v.category === "huji")
      || (place === "elsewhere" && !local && ["huji", "separated"].includes(v.category));
    if (wrong) text += ` ${t("hukou_category_check")}`;
    out.textContent = text;
    out.className = wrong ? "hint warn" : "hint";
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  queueMicrotask(update);
}

/** The new values of the registry fields, as sent (empty ones left out of a create). */
function registryValues(v, checked) {
  const out = {landline: checked.landline, phone_status: v.phone_status || null, employer_unit_id: v.employer_unit_id || null};
  for (const k of [...HUKOU, ...PERMIT]) out[k] = v[k] || null;
  return out;
}

function idHint(form) {
  const out = h("p", {class: "hint", "aria-live": "polite"});
  if (!form.querySelector('[name="id_number"]')) return out;  // the ID is shown masked: nothing to check
  const update = () => {
    const v = formValues(form);
    try {
      const id = parsePersonId(v.id_number, v.id_type);
      const bits = [id.sex && label("sex", id.sex), id.birth_date].filter(Boolean).join(" · ");
      out.textContent = bits ? `${t("filled_from_id")}：${bits}` : "";
      if (id.warnings.length) out.textContent += ` — ${t("warnings")}：${id.warnings.map(msg).join("；")}`;
      showErrors(form, [], msg);
    } catch (e) {
      out.textContent = "";
      if (e instanceof ValidationError && v.id_number) showErrors(form, e.errors, msg);
    }
  };
  form.addEventListener("change", update);
  form.querySelector('[name="id_number"]').addEventListener("input", () => { if (form.id_number.value.length >= 15) update(); });
  queueMicrotask(update);  // an edit starts with a number: show what it says at once (no layout jump)
  return out;
}

/** Households at the house: occupants grouped by household_id (or alone, not yet grouped). */
async function households(houseId) {
  const d = await db();
  const open = (await d.getAllFromIndex("residency", "house_id", houseId)).filter((r) => !r.end_date);
  const groups = new Map();
  for (const r of open) {
    const key = r.household_id || `r:${r.id}`;
    const person = await d.get("person", r.person_id);
    if (!groups.has(key)) groups.set(key, {household_id: r.household_id || null, residencies: [], names: []});
    groups.get(key).residencies.push(r);
    groups.get(key).names.push(person?.name || "?");
  }
  return [...groups.entries()].map(([key, g]) => ({key, ...g}));
}

export async function addPerson(houseId) {
  const [rooms, homes, house] = await Promise.all([roomsOf(houseId), households(houseId), (await db()).get("house", houseId),
    areaLists()]);
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("add_occupant")},
    field(t("name"), "name", {required: true, autocomplete: "off"}),
    field(t("id_type"), "id_type", {kind: "select", options: choices("id_type"), value: "resident"}),
    field(t("id_number"), "id_number", {required: true, autocomplete: "off", inputmode: "text"}),
    field(t("phone"), "phone", {kind: "tel", autocomplete: "off"}),
    field(t("category"), "category", {kind: "select", options: choices("category"), value: "migrant"}),
    ...await registryFields({}, houseId),
    field(t("relation"), "relation", {kind: "select", options: choices("relation"), value: "tenant"}),
    // The group-renting rule counts persons per room, and family as one household.
    rooms.length ? field(t("room"), "room_id", {kind: "select", value: "",
      options: [["", t("room_none")], ...rooms.map((r) => [r.id, r.name])]}) : null,
    field(t("household"), "household", {kind: "select", value: "",
      options: [["", t("household_none")], ["new", t("household_new")],
        ...homes.map((g) => [g.key, t("household_with").replace("{names}", g.names.join("、"))])]}),
    field(t("start_date"), "start_date", {kind: "date", value: shanghaiToday()}));
  /** The stay at this house the form describes (and the household updates it implies). */
  const stayOf = (v, personId) => {
    const residency = {person_id: personId, house_id: houseId, start_date: v.start_date || shanghaiToday(), relation: v.relation};
    if (v.room_id) residency.room_id = v.room_id;
    // Joining occupants not yet in a household gives them one: the same new id on each.
    const joined = homes.find((g) => g.key === v.household);
    const household = v.household === "new" ? uuid() : joined ? joined.household_id || uuid() : null;
    if (household) residency.household_id = household;
    const grouped = joined && !joined.household_id ? joined.residencies.map((r) => ({type: "residency", op: "update",
      record_id: r.id, base_version: r.version ?? null, fields: {household_id: household}, base: {household_id: null},
      local: {household_id: household}})) : [];
    return [{type: "residency", op: "create", record_id: uuid(), base_version: null, fields: residency, local: residency}, ...grouped];
  };
  // A person this phone already holds elsewhere moves here: a new stay, and the server ends the
  // old one the day before (docs/sync.md §3 "Moving house is normal"); no second person.
  const move = async (known) => {
    await save(stayOf(formValues(form), known.person.id));
    toast(t("move_saved"));
    location.hash = `#/house/${houseId}`;
  };
  form.append(idHint(form), doorCheck(form, houseId, move), h("div", {class: "actions"}, h("button", {type: "submit"}, t("save")),
    h("a", {class: "button ghost", href: `#/house/${houseId}`}, t("cancel"))));
  hukouHint(form, house);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    const checked = check(v);
    const {errors, id, phone} = checked;
    if (errors.length) return showErrors(form, errors, msg);
    const personId = uuid();
    const extra = Object.fromEntries(Object.entries(registryValues(v, checked)).filter(([, x]) => x !== null));
    const person = {name: v.name, id_type: v.id_type, id_number: id.number, phone, category: v.category, ...extra};
    await save([
      {type: "person", op: "create", record_id: personId, base_version: null, fields: person,
        local: await localOf({...person, sex: id.sex, birth_date: id.birth_date})},
      ...stayOf(v, personId),
    ]);
    toast(t("saved"));
    location.hash = `#/house/${houseId}`;
  });
  show(h("h1", {}, t("add_occupant")), form);
}

/** At the door: an ID number the phone already holds (elsewhere: offer to record a move; here:
 * say so), a mobile already on an occupant of this house. From the numbers in memory (known.js). */
function doorCheck(form, houseId, move) {
  const box = h("div", {class: "door-check", id: "door-check", role: "alert", hidden: true});
  const say = (...nodes) => { box.replaceChildren(...nodes.filter(Boolean)); box.hidden = !nodes.some(Boolean); };
  let asked = 0;
  const check = async () => {
    const mine = ++asked;
    const v = formValues(form);
    let id = null, phone = null;
    try { id = parsePersonId(v.id_number, v.id_type).number; } catch { id = null; }
    try { phone = v.phone ? parseMobile(v.phone) : null; } catch { phone = null; }
    const [known, sharing] = await Promise.all([id ? byIdNumber(id) : null, phone ? byPhoneInHouse(houseId, phone) : []]);
    if (mine !== asked) return;  // typed on meanwhile
    const idLine = !known ? null : known.house?.id === houseId
      ? h("p", {class: "warn", id: "id-known"}, t("id_known_here").replace("{name}", known.person.name || "?"), " ",
        h("a", {href: `#/house/${houseId}/person/${known.person.id}/edit`}, t("open_person")))
      : h("div", {id: "id-known"}, h("p", {class: "warn"}, t("id_known").replace("{name}", known.person.name || "?")
        .replace("{address}", known.house ? address(known.house) : "")),
      h("div", {class: "actions wrap"},
        h("button", {type: "button", id: "record-move", onclick: () => move(known)}, t("record_move")),
        known.house ? h("a", {class: "button ghost", href: `#/house/${known.house.id}`}, t("open_person")) : null));
    const phoneLine = sharing.length ? h("p", {class: "warn", id: "phone-known"},
      t("phone_known").replace("{name}", sharing.map((s) => s.person.name || "?").join("、")), " ",
      h("a", {href: `#/house/${houseId}/person/${sharing[0].person.id}/edit`}, t("open_person"))) : null;
    say(idLine, phoneLine);
  };
  form.addEventListener("input", (ev) => { if (["id_number", "phone", "id_type"].includes(ev.target?.name)) check(); });
  form.addEventListener("change", check);
  return box;
}

// The fields this form edits, and what an empty one is sent as.
const EDITED = ["name", "id_type", "id_number", "phone", "landline", "phone_status", "category", ...HUKOU, ...PERMIT,
  "employer_unit_id"];
const COUPLED = {id_type: "id_number"};  // the type goes with the number: masked number, fixed type

export async function editPerson(houseId, personId) {
  const [row] = await Promise.all([(await db()).get("person", personId), areaLists()]);
  if (!row) return show(h("h1", {}, t("edit")), h("p", {role: "alert"}, t("none")));
  const p = await opened(row);
  // A role that sees a field masked got `<field>_masked` only (docs/sync.md), one that may not see
  // it got nothing: such a field is shown as it came and never edited, so neither a masked value
  // nor a `base` for a value this phone never had is sent. A record made on this phone (version
  // 0: never pulled) had every field typed here.
  const masked = (k) => !(k in p) && `${COUPLED[k] || k}_masked` in p;
  const had = (k) => !masked(k) && !masked(COUPLED[k] || k) && (!row.version || k in p || CLEAR_FIELDS.has(k));
  const keys = EDITED.filter(had);
  const defaults = {id_type: "resident", category: "migrant"};
  const before = Object.fromEntries(keys.map((k) => [k, p[k] || defaults[k] || ""]));
  const input = (k, kind, extra = {}) => (keys.includes(k) ? field(t(k), k, {value: before[k], autocomplete: "off", ...extra, ...kind})
    : masked(k) || masked(COUPLED[k]) ? readOnly(k, p) : null);
  const house = await (await db()).get("house", houseId);
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("edit")},
    input("name", {}, {required: true}),
    input("id_type", {kind: "select", options: choices("id_type")}),
    input("id_number", {}, {required: true}),
    input("phone", {kind: "tel"}),
    input("category", {kind: "select", options: choices("category")}),
    // A renewed residence permit is recorded here (the badge above says when it is due).
    ...await registryFields(before, houseId, (k) => keys.includes(k), (k) => (masked(k) ? readOnly(k, p) : null)));
  form.append(idHint(form), h("div", {class: "actions"}, h("button", {type: "submit"}, t("save")),
    h("a", {class: "button ghost", href: `#/house/${houseId}`}, t("cancel"))));
  hukouHint(form, house);
  if (masked("hukou_region")) regionName(p.hukou_region_masked).then((name) => {
    const shown = form.querySelector('[data-masked="hukou_region"] p');
    if (shown) shown.textContent = name;
  }).catch(() => {});
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    const checked = check(v, (k) => keys.includes(k));
    const {errors, id, phone} = checked;
    if (errors.length) return showErrors(form, errors, msg);
    const typed = {...v, phone: phone || "", landline: checked.landline || "", ...(id ? {id_number: id.number} : {})};
    const changed = keys.filter((k) => (typed[k] ?? "") !== before[k]);
    if (changed.length) {
      const pick = (o) => Object.fromEntries(changed.map((k) => [k, o[k] === "" ? null : o[k]]));
      const values = pick(typed);
      if (changed.includes("id_number")) Object.assign(values, {sex: id.sex, birth_date: id.birth_date});
      await save([{type: "person", op: "update", record_id: personId, base_version: p.version ?? null,
        fields: pick(typed), base: pick(before), local: await localOf(values)}]);
    }
    toast(t("saved"));
    location.hash = `#/house/${houseId}`;
  });
  const due = permitDue(p);
  show(h("h1", {}, `${t("edit")}：${p.name || ""}`), due ? h("p", {}, permitTag(due), " ",
    h("a", {class: "button small", href: `#/house/${houseId}/person/${personId}/endorse`}, t("endorse"))) : null, form);
}

/** The yearly endorsement (签注) done: its date, offline; the server records who. It clears the
 * permits-due list here at once (store.permitDue reads permit_endorsed_on). */
export async function endorse(houseId, personId) {
  const row = await (await db()).get("person", personId);
  if (!row?.permit_expiry) { location.hash = `#/house/${houseId}`; return; }
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("endorse")},
    field(t("endorsed_on"), "permit_endorsed_on", {kind: "date", value: shanghaiToday(), required: true}),
    h("div", {class: "actions"}, h("button", {type: "submit"}, t("save")),
      h("a", {class: "button ghost", href: `#/house/${houseId}`}, t("cancel"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const on = formValues(form).permit_endorsed_on;
    if (!on || on > shanghaiToday()) {
      return showErrors(form, [{field: "permit_endorsed_on", zh: "签注日期不能为空，也不能晚于今天", en: "The date is required and cannot be in the future"}], msg);
    }
    const early = dayProblem(on, "permit_endorsed_on");
    if (early) return showErrors(form, [early], msg);
    const fields = {permit_endorsed_on: on};
    await save([{type: "person", op: "update", record_id: personId, base_version: row.version ?? null, fields,
      base: {permit_endorsed_on: row.permit_endorsed_on ?? null}, local: await localOf(fields)}]);
    toast(t("saved"));
    location.hash = `#/house/${houseId}`;
  });
  const due = permitDue(row);
  show(h("h1", {}, `${t("endorse")}：${row.name || ""}`), due ? h("p", {}, permitTag(due)) : null, form);
}

// Fields every row carries in clear (personal.js): present even when a role's row omits others.
const CLEAR_FIELDS = new Set(["name", "id_type", "category", "permit_expiry", "permit_issued", "permit_endorsed_on"]);

/** A masked field: its label and the masked text, read-only. */
function readOnly(k, p) {
  const shown = k === "id_type" ? label("id_type", p.id_type) : k === "id_number" ? p.id_masked || p.id_number_masked
    : k === "phone" ? p.phone_masked : k === "hukou_region" ? p.hukou_region_masked : p[`${k}_masked`];
  return h("div", {class: "field masked", "data-masked": k}, h("span", {class: "label"}, t(k)),
    h("p", {class: "mono"}, shown || ""));
}
