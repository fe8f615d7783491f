// Tasks (待办) on the phone: the open tasks of a house, the list of the coordinator's cells'
// tasks (mine first, then the cell's unassigned, then colleagues'), and closing one with the
// visit that found it — all from IndexedDB, so it works offline.
import {dateOf, timeOf} from "../clock.js";
import {db, getMeta} from "../db.js";
import {choices, label, msg, t} from "../i18n.js";
import {save} from "../outbox.js";
import {address} from "../store.js";
import {field, formValues, h, show, showErrors, toast, uuid} from "../ui.js";
import {shanghaiToday} from "../validation.js";

const OUTCOME_MAX = 500;

/** The registered user's id (the device registration answers it). */
export const me = async () => (await getMeta("device"))?.user?.id ?? null;

export const isOverdue = (task, today = shanghaiToday()) => Boolean(task.due_on) && task.due_on < today;

/** "mine" (assigned to me), "cell" (to nobody in particular: every coordinator of the cell) or "other". */
export function whose(task, user) {
  if (task.assignee_id == null) return "cell";
  return task.assignee_id === user ? "mine" : "other";
}

/** Overdue first, then by due date (none last), then oldest first. */
export function byUrgency(a, b, today = shanghaiToday()) {
  return (Number(isOverdue(b, today)) - Number(isOverdue(a, today))) || String(a.due_on || "9999").localeCompare(String(b.due_on || "9999"))
    || String(a.created_at || "").localeCompare(String(b.created_at || ""));
}

export async function openTasks() {
  return (await (await db()).getAll("task")).filter((x) => x.status === "open" && !x.deleted_at);
}

/** What the tab's badge counts: open tasks that are mine or the cell's, and (for a coordinator)
 * entries a lead returned. */
export async function badgeCount() {
  const device = await getMeta("device");
  const tasks = (await openTasks()).filter((x) => whose(x, device?.user?.id ?? null) !== "other").length;
  if (device?.user?.role !== "coordinator") return tasks;
  return tasks + (await (await db()).getAll("review")).filter((r) => r.status === "returned" && !r.deleted_at).length;
}

export async function badge() {
  const tab = document.getElementById("tab-tasks");
  if (!tab) return;
  const n = await badgeCount().catch(() => 0);
  tab.replaceChildren(t("tasks"), n ? h("span", {class: "badge", id: "tasks-badge"}, String(n)) : "");
  tab.setAttribute("aria-label", n ? `${t("tasks")} ${n}` : t("tasks"));
}

function tags(task, user, today) {
  const who = whose(task, user);
  return [
    h("span", {class: "tag"}, label("task_source", task.source)),
    h("span", {class: who === "mine" ? "tag ok whose" : "tag whose", "data-whose": who}, t(`task_${who}`)),
    task.due_on ? h("span", {class: isOverdue(task, today) ? "tag bad overdue" : "tag due"},
      isOverdue(task, today) ? `${t("task_overdue")} ${task.due_on}` : `${t("task_due")} ${task.due_on}`) : null,
  ];
}

/** The house page's section: its open tasks, each with a "close" button. */
export async function houseSection(houseId, tasks) {
  if (!tasks.length) return null;
  const user = await me();
  const today = shanghaiToday();
  const sorted = [...tasks].sort((a, b) => byUrgency(a, b, today));
  return [h("h2", {}, `${t("tasks")} (${tasks.length})`), h("ul", {class: "list", id: "tasks"}, sorted.map((task) =>
    h("li", {class: "task", "data-task": task.id},
      h("div", {}, h("strong", {}, label("task_kind", task.kind)), " ", ...tags(task, user, today)),
      task.text ? h("p", {class: "task-text"}, task.text) : null,
      h("div", {class: "actions"}, h("a", {class: "button small", href: `#/house/${houseId}/task/${task.id}/close`}, t("task_close"))))))];
}

/** 待办: the open tasks of the phone's cells, mine first, then the cell's, then colleagues'. */
export async function listPage() {
  const d = await db();
  const user = await me();
  const today = shanghaiToday();
  const tasks = (await openTasks()).sort((a, b) => byUrgency(a, b, today));
  const houses = new Map();
  for (const task of tasks) if (!houses.has(task.house_id)) houses.set(task.house_id, await d.get("house", task.house_id));
  const group = (who) => tasks.filter((x) => whose(x, user) === who);
  const section = (who, title) => {
    const rows = group(who);
    return [h("h2", {}, `${title} (${rows.length})`), rows.length ? h("ul", {class: "list", id: `tasks-${who}`}, rows.map((task) =>
      h("li", {class: "task", "data-task": task.id}, h("a", {class: "row", href: `#/house/${task.house_id}`},
        h("strong", {}, houses.get(task.house_id) ? address(houses.get(task.house_id)) : "?"), ...tags(task, user, today),
        h("span", {class: "task-text"}, `${label("task_kind", task.kind)}${task.text ? `：${task.text}` : ""}`)))))
      : h("p", {class: "muted", id: `tasks-${who}`}, t("none"))];
  };
  // Entries a grid lead returned (审核): they are work for the coordinator too.
  const returned = await (await import("./review.js")).returnedSection();
  show(h("h1", {}, t("tasks")), returned, section("mine", t("tasks_mine")), section("cell", t("tasks_cell")),
    group("other").length ? section("other", t("tasks_other")) : null);
}

/** Visits recorded on this phone today at the house (the phone's own, synced or not). */
async function visitsToday(houseId, user) {
  const today = shanghaiToday();
  return (await (await db()).getAllFromIndex("visit", "house_id", houseId))
    .filter((v) => dateOf(v.visited_at) === today && ((v.user_id ?? v.changed_by_id) == null || (v.user_id ?? v.changed_by_id) === user))
    .sort((a, b) => b.visited_at.localeCompare(a.visited_at));
}

function position() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition((p) => resolve(p.coords), () => resolve(null),
      {enableHighAccuracy: true, timeout: 8000, maximumAge: 60000});
  });
}

/** What a closed task is recorded as: changed / no change are done; not found / duplicate are
 * reports not taken up (不予采纳). */
export const statusFor = (result) => (result === "changed" || result === "no_change" ? "done" : "rejected");

export function check(values, {newVisit}) {
  const errors = [];
  if (!choices("task_result").some(([v]) => v === values.result)) {
    errors.push({field: "result", code: "field.required", zh: "请选择处理结果", en: "Choose the result"});
  }
  if (!values.outcome) errors.push({field: "outcome", code: "field.required", zh: "请简要说明情况", en: "Say briefly what was found"});
  else if (values.outcome.length > OUTCOME_MAX) {
    errors.push({field: "outcome", code: "field.too_long", zh: `说明不超过${OUTCOME_MAX}字`, en: `At most ${OUTCOME_MAX} characters`});
  }
  if (newVisit && !choices("outcome").some(([v]) => v === values.visit_outcome)) {
    errors.push({field: "visit_outcome", code: "field.choice", zh: "请选择走访结果", en: "Choose the visit's outcome"});
  }
  if (!newVisit && !values.visit) errors.push({field: "visit", code: "field.required", zh: "请选择走访记录", en: "Choose the visit"});
  return errors;
}

/** Close a task from its house: the result, a short note, and the visit that found it (today's
 * visit on this phone, or one recorded with the close — queued first, so it reaches the server first). */
export async function closeTask(houseId, taskId) {
  const d = await db();
  const task = await d.get("task", taskId);
  if (!task || task.status !== "open") { toast(t("task_gone")); location.hash = `#/house/${houseId}`; return; }
  const user = await me();
  const visits = await visitsToday(houseId, user);
  const visitChoice = visits.length ? field(t("task_visit"), "visit", {kind: "select", value: visits[0].id,
    options: [...visits.map((v) => [v.id, `${timeOf(v.visited_at)} ${label("outcome", v.outcome)}`]), ["new", t("task_visit_new")]]}) : null;
  const visitFields = h("fieldset", {class: "card", id: "task-new-visit"}, h("legend", {}, t("record_visit")),
    field(t("outcome"), "visit_outcome", {kind: "select", options: choices("outcome"), value: "verified"}),
    field(t("gps"), "gps", {kind: "checkbox", value: true}),
    field(t("plate_scanned"), "plate_scanned", {kind: "checkbox", value: false}));
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("task_close")},
    h("p", {}, h("strong", {}, label("task_kind", task.kind)), " ", h("span", {class: "tag"}, label("task_source", task.source))),
    task.text ? h("p", {class: "task-text"}, task.text) : null,
    field(t("task_result"), "result", {kind: "select", value: "", options: [["", t("choose")], ...choices("task_result")]}),
    field(t("task_outcome"), "outcome", {kind: "textarea", maxlength: 200}),
    visitChoice, visitFields,
    h("div", {class: "actions"}, h("button", {type: "submit"}, t("save")),
      h("a", {class: "button ghost", href: `#/house/${houseId}`}, t("cancel"))));
  const newVisit = () => !visitChoice || form.visit.value === "new";
  const toggle = () => { visitFields.hidden = !newVisit(); };
  if (visitChoice) form.visit.addEventListener("change", toggle);
  toggle();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const v = formValues(form);
      const errors = check(v, {newVisit: newVisit()});
      if (errors.length) return showErrors(form, errors, msg);
      const now = new Date().toISOString();
      const mutations = [];
      let visitId = v.visit;
      if (newVisit()) {
        visitId = uuid();
        const fields = {house_id: houseId, visited_at: now, outcome: v.visit_outcome, plate_scanned: form.plate_scanned.checked, note: null};
        if (form.gps.checked) {
          const c = await position();
          if (c) Object.assign(fields, {lat: c.latitude, lon: c.longitude, accuracy_m: c.accuracy});
        }
        mutations.push({type: "visit", op: "create", record_id: visitId, base_version: null, fields, local: fields});
      }
      const fields = {status: statusFor(v.result), outcome: v.outcome, result: v.result, closed_at: now, closed_visit_id: visitId};
      const base = Object.fromEntries(Object.keys(fields).map((k) => [k, task[k] ?? null]));
      mutations.push({type: "task", op: "update", record_id: taskId, base_version: task.version ?? null, fields, base, local: fields});
      await save(mutations);  // one transaction: the visit and the close, in that order
      toast(t("saved"));
      location.hash = `#/house/${houseId}`;
    } finally { button.disabled = false; }
  });
  show(h("h1", {}, t("task_close")), form);
}
