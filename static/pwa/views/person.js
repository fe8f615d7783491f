// Add an occupant (person + residency) or edit a person; the ID number is checked here first.
import {save} from "../outbox.js";
import {choices, label, msg, t} from "../i18n.js";
import {fullId} from "../store.js";
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

export function addPerson(houseId) {
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("add_occupant")},
    field(t("name"), "name", {required: true, autocomplete: "off"}),
    field(t("id_type"), "id_type", {kind: "select", options: choices("id_type"), value: "resident"}),
    field(t("id_number"), "id_number", {required: true, autocomplete: "off", inputmode: "text"}),
    field(t("phone"), "phone", {kind: "tel", autocomplete: "off"}),
    field(t("category"), "category", {kind: "select", options: choices("category"), value: "migrant"}),
    field(t("relation"), "relation", {kind: "select", options: choices("relation"), value: "tenant"}),
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
    const {id_number: _n, ...shown} = person;
    await save([
      {type: "person", op: "create", record_id: personId, base_version: null, fields: person,
        local: {...shown, sex: id.sex, birth_date: id.birth_date, ...(await protectId(id.number))}},
      {type: "residency", op: "create", record_id: residencyId, base_version: null, fields: residency, local: residency},
    ]);
    toast(t("saved"));
    location.hash = `#/house/${houseId}`;
  });
  show(h("h1", {}, t("add_occupant")), form);
}

export async function editPerson(houseId, personId) {
  const p = await (await db()).get("person", personId);
  const number = await fullId(p);
  const before = {name: p.name || "", id_type: p.id_type || "resident", id_number: number, phone: p.phone || "", category: p.category || "migrant"};
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("edit")},
    field(t("name"), "name", {required: true, value: before.name, autocomplete: "off"}),
    field(t("id_type"), "id_type", {kind: "select", options: choices("id_type"), value: before.id_type}),
    field(t("id_number"), "id_number", {required: true, value: before.id_number, autocomplete: "off"}),
    field(t("phone"), "phone", {kind: "tel", value: before.phone, autocomplete: "off"}),
    field(t("category"), "category", {kind: "select", options: choices("category"), value: before.category}));
  form.append(idHint(form), h("div", {class: "actions"}, h("button", {type: "submit"}, t("save")),
    h("a", {class: "button ghost", href: `#/house/${houseId}`}, t("cancel"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    const {errors, id, phone} = check(v);
    if (errors.length) return showErrors(form, errors, msg);
    const after = {name: v.name, id_type: v.id_type, id_number: id.number, phone: phone || "", category: v.category};
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
  show(h("h1", {}, `${t("edit")}：${p.name || ""}`), form);
}
