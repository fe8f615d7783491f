// The grid lead's field view (网格长): per cell, this cycle's coverage, unvisited houses, open
// tasks and entries waiting for review — all from the phone's own data, so it works offline.
import {db} from "../db.js";
import {label, t} from "../i18n.js";
import * as store from "../store.js";
import {h, show} from "../ui.js";
import {openTasks} from "./tasks.js";
import {pendingItem, withStatus} from "./review.js";

/** A cell's figures, counted the way the coordinator's cell page shows them (visited this collection cycle). */
export async function figures(cellId) {
  const houses = await store.housesOf(cellId);
  const ids = new Set(houses.map((x) => x.id));
  const tasks = (await openTasks()).filter((x) => ids.has(x.house_id));
  const pending = await withStatus("pending", cellId);
  const visited = houses.filter((x) => x.visited).length;
  return {houses, visited, unvisited: houses.filter((x) => !x.visited), tasks, pending};
}

const percent = (part, whole) => (whole ? Math.round((100 * part) / whole) : 0);

function stats(cellId, f) {
  return h("dl", {class: "stats", "data-cell": cellId},
    h("dt", {}, t("lead_coverage")), h("dd", {class: "coverage"}, `${f.visited}/${f.houses.length}（${percent(f.visited, f.houses.length)}%）`),
    h("dt", {}, t("not_visited")), h("dd", {class: "unvisited"}, String(f.unvisited.length)),
    h("dt", {}, t("tasks")), h("dd", {class: "open-tasks"}, String(f.tasks.length)),
    h("dt", {}, t("review_pending")), h("dd", {class: "pending-reviews"}, String(f.pending.length)));
}

export async function home() {
  const cells = await store.cells();
  const cards = [];
  for (const cell of cells) {
    const f = await figures(cell.id);
    cards.push(h("section", {class: "card lead-cell", "aria-label": cell.name || cell.code},
      h("h2", {}, cell.name || cell.code), stats(cell.id, f),
      h("p", {class: "actions wrap"}, h("a", {class: "button", href: `#/lead/cell/${cell.id}`}, t("lead_open")),
        h("a", {class: "button ghost", href: `#/cell/${cell.id}`}, t("houses")))));
  }
  show(h("h1", {}, t("lead_home")), cards.length ? cards : h("p", {}, t("none")));
}

/** One cell: what waits for review (approve / return), the unvisited houses, the open tasks. */
export async function cellPage(cellId) {
  const cell = await (await db()).get("cell", cellId);
  const f = await figures(cellId);
  const houseOf = new Map(f.houses.map((x) => [x.id, x]));
  show(h("h1", {}, cell?.name || cell?.code || t("cells")), stats(cellId, f),
    h("h2", {}, `${t("review_pending")} (${f.pending.length})`),
    f.pending.length ? h("ul", {class: "list", id: "reviews-pending"}, f.pending.map((item) => pendingItem(item)))
      : h("p", {class: "muted", id: "reviews-pending"}, t("none")),
    h("h2", {}, `${t("not_visited")} (${f.unvisited.length})`),
    f.unvisited.length ? h("ul", {class: "list", id: "unvisited"}, f.unvisited.map((x) =>
      h("li", {"data-house": x.id}, h("a", {class: "row", href: `#/house/${x.id}`}, store.address(x))))) : h("p", {}, t("walk_done")),
    h("h2", {}, `${t("tasks")} (${f.tasks.length})`),
    f.tasks.length ? h("ul", {class: "list", id: "lead-tasks"}, f.tasks.map((task) =>
      h("li", {"data-task": task.id}, h("a", {class: "row", href: `#/house/${task.house_id}`},
        h("strong", {}, houseOf.get(task.house_id) ? store.address(houseOf.get(task.house_id)) : "?"),
        h("span", {class: "tag"}, label("task_source", task.source)), task.due_on ? h("span", {class: "muted"}, ` ${t("task_due")} ${task.due_on}`) : null))))
      : h("p", {}, t("none")),
    h("p", {}, h("a", {href: "#/cells"}, t("back"))));
}
