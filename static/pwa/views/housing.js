// Housing at the door: the house's use and areas, and its rooms with their kind and living area
// (offline; synced as house and room changes). What the 群租 rule reads: how many live in which
// room, the living area, and rooms that may not be let (a balcony, a partition, a basement).
import {db} from "../db.js";
import {choices, label, msg, t} from "../i18n.js";
import {save} from "../outbox.js";
import {rooms as roomsOf} from "../store.js";
import {field, formValues, h, show, showErrors, toast, uuid} from "../ui.js";

// The bounds the server and the console check (webapp/validation/ranges.py AREA_M2).
const AREA_MAX = 100000;

/** An area typed (m²): a number within the bounds, or null when empty; errors at the field. */
export function area(value, name, errors) {
  if (value === "" || value == null) return null;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > AREA_MAX) {
    errors.push({field: name, code: "field.range", zh: `面积应在0到${AREA_MAX}平方米之间`, en: `The area must be from 0 to ${AREA_MAX} m²`});
    return null;
  }
  return n;
}

/** The house's use, floor and living area, and its rooms. */
export async function housingPage(houseId) {
  const house = await (await db()).get("house", houseId);
  if (!house) { location.hash = "#/cells"; return; }
  const rooms = await roomsOf(houseId);
  const occupied = new Set((await (await db()).getAllFromIndex("residency", "house_id", houseId))
    .filter((r) => !r.end_date).map((r) => r.room_id).filter(Boolean));
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("housing")},
    field(t("house_use"), "use", {kind: "select", options: choices("use"), value: house.use || "owner_occupied"}),
    field(`${t("floor_area")}（m²）`, "floor_area", {kind: "number", inputmode: "decimal", step: "0.1", value: house.floor_area ?? ""}),
    field(`${t("living_area")}（m²）`, "living_area", {kind: "number", inputmode: "decimal", step: "0.1", value: house.living_area ?? ""}),
    h("div", {class: "actions"}, h("button", {type: "submit"}, t("save")),
      h("a", {class: "button ghost", href: `#/house/${houseId}`}, t("cancel"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    const errors = [];
    const after = {use: v.use, floor_area: area(v.floor_area, "floor_area", errors), living_area: area(v.living_area, "living_area", errors)};
    if (!errors.length && after.floor_area !== null && after.living_area !== null && after.living_area > after.floor_area) {
      errors.push({field: "living_area", zh: "居住面积不能大于建筑面积", en: "The living area cannot exceed the floor area"});
    }
    if (errors.length) return showErrors(form, errors, msg);
    const changed = Object.keys(after).filter((k) => (after[k] ?? null) !== (house[k] ?? null));
    if (changed.length) {
      const fields = Object.fromEntries(changed.map((k) => [k, after[k]]));
      await save([{type: "house", op: "update", record_id: houseId, base_version: house.version ?? null, fields,
        base: Object.fromEntries(changed.map((k) => [k, house[k] ?? null])), local: fields}]);
    }
    toast(t("saved"));
    location.hash = `#/house/${houseId}`;
  });
  const list = rooms.length ? h("ul", {class: "list", id: "rooms"}, rooms.map((r) => h("li", {class: "room", "data-room": r.id},
    h("strong", {}, r.name), " ", h("span", {class: ["partitioned", "basement", "kitchen", "bathroom", "balcony", "storage"]
      .includes(r.kind) ? "tag warn" : "tag"}, label("room_kind", r.kind || "bedroom")),
    r.living_area != null ? h("span", {class: "muted"}, ` ${r.living_area} m²`) : null,
    occupied.has(r.id) ? h("span", {class: "muted"}, ` · ${t("room_occupied")}`) : null, " ",
    h("a", {class: "button small ghost", href: `#/house/${houseId}/room/${r.id}`}, t("edit"))))) : h("p", {}, t("none"));
  show(h("h1", {}, t("housing")), form, h("h2", {}, t("rooms")), list,
    h("p", {}, h("a", {class: "button", id: "add-room", href: `#/house/${houseId}/room/new`}, t("add_room"))));
}

/** Add a room, or edit or remove one (`roomId`); a room someone lives in is not removed. */
export async function roomPage(houseId, roomId) {
  const d = await db();
  const before = roomId === "new" ? null : await d.get("room", roomId);
  if (roomId !== "new" && !before) { location.hash = `#/house/${houseId}/housing`; return; }
  const back = `#/house/${houseId}/housing`;
  const form = h("form", {class: "card", novalidate: true, "aria-label": before ? t("room_edit") : t("add_room")},
    field(t("room_name"), "name", {required: true, maxlength: 32, value: before?.name || ""}),
    field(t("room_kind"), "kind", {kind: "select", options: choices("room_kind"), value: before?.kind || "bedroom"}),
    field(`${t("living_area")}（m²）`, "living_area", {kind: "number", inputmode: "decimal", step: "0.1", value: before?.living_area ?? ""}),
    h("p", {class: "hint"}, t("room_kind_hint")),
    h("div", {class: "actions"}, h("button", {type: "submit"}, t("save")), h("a", {class: "button ghost", href: back}, t("cancel"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    const errors = [];
    if (!v.name) errors.push({field: "name", zh: "房间名称必填", en: "The room's name is required"});
    const after = {name: v.name, kind: v.kind, living_area: area(v.living_area, "living_area", errors)};
    if (errors.length) return showErrors(form, errors, msg);
    if (!before) {
      const fields = {house_id: houseId, ...after};
      await save([{type: "room", op: "create", record_id: uuid(), base_version: null, fields, local: fields}]);
    } else {
      const changed = Object.keys(after).filter((k) => (after[k] ?? null) !== (before[k] ?? null));
      if (changed.length) {
        const fields = Object.fromEntries(changed.map((k) => [k, after[k]]));
        await save([{type: "room", op: "update", record_id: roomId, base_version: before.version ?? null, fields,
          base: Object.fromEntries(changed.map((k) => [k, before[k] ?? null])), local: fields}]);
      }
    }
    toast(t("saved"));
    location.hash = back;
  });
  if (before) {
    const remove = h("button", {type: "button", class: "danger", id: "room-remove"}, t("room_remove"));
    remove.addEventListener("click", async () => {
      const living = (await d.getAllFromIndex("residency", "house_id", houseId)).some((r) => !r.end_date && r.room_id === roomId);
      if (living) return toast(t("room_occupied_remove"));
      if (!confirm(t("room_remove_confirm"))) return;
      await save([{type: "room", op: "delete", record_id: roomId, base_version: before.version ?? 0, fields: {},
        base: {deleted_at: null}, local: {}}]);
      toast(t("saved"));
      location.hash = back;
    });
    form.querySelector(".actions").append(remove);
  }
  show(h("h1", {}, before ? `${t("room_edit")}：${before.name}` : t("add_room")), form);
}
