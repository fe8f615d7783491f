// Add an occupant (person + residency) or edit a person; the ID number is checked here first.
import {save} from "../outbox.js";
import {choices, label, msg, t} from "../i18n.js";
import {fullId, permitDue, rooms as roomsOf} from "../store.js";
import {permitTag} from "./places.js";
import {field, formValues, h, show, showErrors, toast, uuid} from "../ui.js";
import {parseMobile, parsePersonId, shanghaiToday, ValidationError} from "../validation.js";
import {protectId} from "../vault.js";
import {db} from "../db.js";

function check(values) {
  const errors = [];
  let id = null;
  let phone = values.phone || null;
  if (!values.name) errors.push({field: "name", code: "field.required", zh: "姓名必填", en: "Name is required"});
  try { id = parsePersonId(values.id_number, values.id_type); } catch (e) { if (e instanceof ValidationError) errors.push(...e.errors); else throw e; }
  if (phone) { try { phone = parseMobile(phone); } catch (e) { errors.push(...e.errors); } }
  return {errors, id, phone};
}

function idHint(form) {
  const out = h("p", {class: "hint", "aria-live": "polite"});
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
  form.append(idHint(form), h("div", {class: "actions"}, h("button", {type: "submit"}, t("save")),
    h("a", {class: "button ghost", href: `#/house/${houseId}`}, t("cancel"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    const {errors, id, phone} = check(v);
    if (errors.length) return showErrors(form, errors, msg);
    const personId = uuid(), residencyId = uuid();
    const person = {name: v.name, id_type: v.id_type, id_number: id.number, phone, category: v.category};
    const residency = {person_id: personId, house_id: houseId, start_date: v.start_date || shanghaiToday(), relation: v.relation};
    if (v.room_id) residency.room_id = v.room_id;
    // Joining occupants not yet in a household gives them one: the same new id on each.
    const joined = homes.find((g) => g.key === v.household);
    const household = v.household === "new" ? uuid() : joined ? joined.household_id || uuid() : null;
    if (household) residency.household_id = household;
    const grouped = joined && !joined.household_id ? joined.residencies.map((r) => ({type: "residency", op: "update",
      record_id: r.id, base_version: r.version ?? null, fields: {household_id: household}, base: {household_id: null},
      local: {household_id: household}})) : [];
    const {id_number: _n, ...shown} = person;
    await save([
      {type: "person", op: "create", record_id: personId, base_version: null, fields: person,
        local: {...shown, sex: id.sex, birth_date: id.birth_date, ...(await protectId(id.number))}},
      {type: "residency", op: "create", record_id: residencyId, base_version: null, fields: residency, local: residency},
      ...grouped,
    ]);
    toast(t("saved"));
    location.hash = `#/house/${houseId}`;
  });
  show(h("h1", {}, t("add_occupant")), form);
}

export async function editPerson(houseId, personId) {
  const p = await (await db()).get("person", personId);
  const number = await fullId(p);
  const before = {name: p.name || "", id_type: p.id_type || "resident", id_number: number, phone: p.phone || "", category: p.category || "migrant",
    permit_number: p.permit_number || "", permit_expiry: p.permit_expiry || ""};
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("edit")},
    field(t("name"), "name", {required: true, value: before.name, autocomplete: "off"}),
    field(t("id_type"), "id_type", {kind: "select", options: choices("id_type"), value: before.id_type}),
    field(t("id_number"), "id_number", {required: true, value: before.id_number, autocomplete: "off"}),
    field(t("phone"), "phone", {kind: "tel", value: before.phone, autocomplete: "off"}),
    field(t("category"), "category", {kind: "select", options: choices("category"), value: before.category}),
    // A renewed residence permit is recorded here (the badge above says when it is due).
    field(t("permit_number"), "permit_number", {value: before.permit_number, maxlength: 32, autocomplete: "off"}),
    field(t("permit_expiry"), "permit_expiry", {kind: "date", value: before.permit_expiry}));
  form.append(idHint(form), h("div", {class: "actions"}, h("button", {type: "submit"}, t("save")),
    h("a", {class: "button ghost", href: `#/house/${houseId}`}, t("cancel"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    const {errors, id, phone} = check(v);
    if (errors.length) return showErrors(form, errors, msg);
    const after = {name: v.name, id_type: v.id_type, id_number: id.number, phone: phone || "", category: v.category,
      permit_number: v.permit_number, permit_expiry: v.permit_expiry};
    const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
    if (changed.length) {
      const pick = (o) => Object.fromEntries(changed.map((k) => [k, o[k] === "" ? null : o[k]]));
      const local = pick(after);
      delete local.id_number;
      if (changed.includes("id_number")) Object.assign(local, await protectId(id.number), {sex: id.sex, birth_date: id.birth_date});
      await save([{type: "person", op: "update", record_id: personId, base_version: p.version ?? null,
        fields: pick(after), base: pick(before), local}]);
    }
    toast(t("saved"));
    location.hash = `#/house/${houseId}`;
  });
  const due = permitDue(p);
  show(h("h1", {}, `${t("edit")}：${p.name || ""}`), due ? h("p", {}, permitTag(due)) : null, form);
}
