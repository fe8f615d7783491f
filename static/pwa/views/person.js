// Add an occupant (person + residency) or edit a person; the ID number is checked here first.
import {save} from "../outbox.js";
import {choices, label, msg, t} from "../i18n.js";
import {local as localOf, opened} from "../personal.js";
import {byIdNumber, byPhoneInHouse} from "../known.js";
import {address, permitDue, rooms as roomsOf} from "../store.js";
import {permitTag} from "./places.js";
import {field, formValues, h, show, showErrors, toast, uuid} from "../ui.js";
import {parseMobile, parsePersonId, shanghaiToday, ValidationError} from "../validation.js";
import {db} from "../db.js";

/** The form's checks; `editable` says which fields the form has (a masked ID is not checked). */
function check(values, editable = (_name) => true) {
  const errors = [];
  let id = null;
  let phone = values.phone || null;
  if (!values.name) errors.push({field: "name", code: "field.required", zh: "姓名必填", en: "Name is required"});
  if (editable("id_number")) {
    try { id = parsePersonId(values.id_number, values.id_type); } catch (e) { if (e instanceof ValidationError) errors.push(...e.errors); else throw e; }
  }
  if (phone && editable("phone")) { try { phone = parseMobile(phone); } catch (e) { errors.push(...e.errors); } }
  return {errors, id, phone};
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
  const [rooms, homes] = await Promise.all([roomsOf(houseId), households(houseId)]);
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("add_occupant")},
    field(t("name"), "name", {required: true, autocomplete: "off"}),
    field(t("id_type"), "id_type", {kind: "select", options: choices("id_type"), value: "resident"}),
    field(t("id_number"), "id_number", {required: true, autocomplete: "off", inputmode: "text"}),
    field(t("phone"), "phone", {kind: "tel", autocomplete: "off"}),
    field(t("category"), "category", {kind: "select", options: choices("category"), value: "migrant"}),
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
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    const {errors, id, phone} = check(v);
    if (errors.length) return showErrors(form, errors, msg);
    const personId = uuid();
    const person = {name: v.name, id_type: v.id_type, id_number: id.number, phone, category: v.category};
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
const EDITED = ["name", "id_type", "id_number", "phone", "category", "permit_number", "permit_expiry"];
const COUPLED = {id_type: "id_number"};  // the type goes with the number: masked number, fixed type

export async function editPerson(houseId, personId) {
  const row = await (await db()).get("person", personId);
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
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("edit")},
    input("name", {}, {required: true}),
    input("id_type", {kind: "select", options: choices("id_type")}),
    input("id_number", {}, {required: true}),
    input("phone", {kind: "tel"}),
    input("category", {kind: "select", options: choices("category")}),
    // A renewed residence permit is recorded here (the badge above says when it is due).
    input("permit_number", {}, {maxlength: 32}),
    input("permit_expiry", {kind: "date"}));
  form.append(idHint(form), h("div", {class: "actions"}, h("button", {type: "submit"}, t("save")),
    h("a", {class: "button ghost", href: `#/house/${houseId}`}, t("cancel"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    const {errors, id, phone} = check(v, (k) => keys.includes(k));
    if (errors.length) return showErrors(form, errors, msg);
    const typed = {...v, phone: phone || "", ...(id ? {id_number: id.number} : {})};
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
  show(h("h1", {}, `${t("edit")}：${p.name || ""}`), due ? h("p", {}, permitTag(due)) : null, form);
}

// Fields every row carries in clear (personal.js): present even when a role's row omits others.
const CLEAR_FIELDS = new Set(["name", "id_type", "category", "permit_expiry"]);

/** A masked field: its label and the masked text, read-only. */
function readOnly(k, p) {
  const shown = k === "id_type" ? label("id_type", p.id_type) : k === "id_number" ? p.id_masked || p.id_number_masked
    : k === "phone" ? p.phone_masked : p[`${k}_masked`];
  return h("div", {class: "field masked", "data-masked": k}, h("span", {class: "label"}, t(k)),
    h("p", {class: "mono"}, shown || ""));
}
