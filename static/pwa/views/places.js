// Cells → houses → the house page.
import {dateTime} from "../clock.js";
import {db} from "../db.js";
import {label, t} from "../i18n.js";
import {opened} from "../personal.js";
import * as store from "../store.js";
import {h, show} from "../ui.js";

export async function cellList() {
  const cells = await store.cells();
  show(h("h1", {}, t("cells")), cells.length ? h("ul", {class: "list"}, cells.map((c) =>
    h("li", {}, h("a", {href: `#/cell/${c.id}`, class: "row"}, h("strong", {}, c.name || c.code),
      h("span", {class: "muted"}, ` ${c.code} · ${t("houses")} ${c.houses}`))))) : h("p", {}, t("none")));
}

// The cell page's filters: which houses a coordinator walking the cell wants to see.
/** @type {Array<[string, (house: any) => boolean]>} */
const FILTERS = [["all", () => true], ["unvisited", (x) => !x.visited], ["flagged", (x) => x.flags > 0],
  ["with_tasks", (x) => x.tasks > 0], ["walking", (x) => !x.visited]];
let chosen = {cell: null, filter: "all"};  // kept while the coordinator goes to a house and back

export async function cellPage(cellId) {
  const cell = await (await db()).get("cell", cellId);
  const houses = await store.housesOf(cellId);
  if (chosen.cell !== cellId) chosen = {cell: cellId, filter: "all"};
  const visited = houses.filter((x) => x.visited).length;
  const list = h("div", {id: "cell-houses", "aria-live": "polite"});
  const buttons = FILTERS.map(([key]) => h("button", {type: "button", class: "small ghost filter", "data-filter": key,
    "aria-pressed": String(key === chosen.filter), onclick: () => { chosen.filter = key; draw(); }}, t(`filter_${key}`)));
  const draw = async () => {
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.filter === chosen.filter));
    delete list.dataset.filter;  // set again once the list shows this filter's houses
    const keep = FILTERS.find(([key]) => key === chosen.filter)[1];
    let shown = houses.filter(keep);
    if (chosen.filter === "walking") {
      const walk = await store.walkOf(cellId);
      if (!walk) { list.replaceChildren(h("p", {role: "status"}, t("walk_missing"))); list.dataset.filter = chosen.filter; return; }
      shown = walk;
    }
    list.replaceChildren(h("p", {class: "muted", id: "shown-count"}, t("houses_shown").replace("{n}", shown.length)),
      shown.length ? houseList(shown, chosen.filter === "walking") : h("p", {}, t("none")));
    list.dataset.filter = chosen.filter;
  };
  show(h("h1", {}, cell?.name || cell?.code || t("houses")),
    h("dl", {class: "stats", id: "cell-figures"},
      h("dt", {}, t("houses")), h("dd", {id: "cell-total"}, String(houses.length)),
      h("dt", {}, t("visited")), h("dd", {id: "cell-visited"}, String(visited)),
      h("dt", {}, t("not_visited")), h("dd", {id: "cell-unvisited"}, String(houses.length - visited))),
    h("p", {class: "actions wrap"}, h("a", {class: "button", href: `#/cell/${cellId}/add-house`}, t("add_house")),
      h("a", {class: "button ghost", href: `#/cell/${cellId}/map`, id: "act-map"}, t("map")),
      h("a", {class: "button ghost", href: `#/cell/${cellId}/walk`, id: "act-walk"}, t("walk_order")),
      h("a", {class: "button ghost", href: `#/cell/${cellId}/permits`, id: "act-permits"}, t("permits_due"))),
    h("div", {class: "filters", role: "group", "aria-label": t("filter")}, buttons),
    list);
  await draw();
}

const houseList = (houses, ordered = false) => h(ordered ? "ol" : "ul", {class: "list", id: ordered ? "walk" : "houses"}, houses.map((x) =>
  h("li", {"data-house": x.id}, h("a", {href: `#/house/${x.id}`, class: "row"},
    h("strong", {}, store.address(x)),
    h("span", {class: x.visited ? "tag ok" : "tag"}, x.visited ? t("visited") : t("not_visited")),
    h("span", {class: "muted"}, ` ${t("occupants")} ${x.occupants}`),
    x.flags ? h("span", {class: "tag warn"}, `${t("flags")} ${x.flags}`) : null,
    x.tasks ? h("span", {class: "tag warn"}, `${t("open_tasks")} ${x.tasks}`) : null))));

/** 按路线: the cell's unvisited houses in the walking order kept on the phone. */
export async function walkPage(cellId) {
  const houses = await store.walkOf(cellId);
  const back = h("p", {}, h("a", {href: `#/cell/${cellId}`}, t("back")));
  if (!houses) return show(h("h1", {}, t("walk_order")), h("p", {role: "status"}, t("walk_missing")), back);
  show(h("h1", {}, t("walk_order")), h("p", {class: "muted"}, `${t("not_visited")}：${houses.length}`),
    houses.length ? houseList(houses, true) : h("p", {}, t("walk_done")), back);
}

/** Residence permits due in the cell (the registry's warning days), soonest first. */
export async function permitsPage(cellId) {
  const due = await store.permitsDue(cellId);
  show(h("h1", {}, t("permits_due")),
    h("p", {class: "muted"}, t("permits_within").replace("{days}", store.permitDays())
      .replace("{window}", store.permitSettings().window)),
    due.length ? h("ul", {class: "list", id: "permits"}, due.map(({person, house, ...found}) =>
      h("li", {"data-person": person.id}, h("a", {href: `#/house/${house.id}`, class: "row"},
        h("strong", {}, person.name || "?"), " ", permitTag(found),
        h("span", {class: "muted"}, ` ${store.address(house)}`))))) : h("p", {}, t("none")),
    h("p", {}, h("a", {href: `#/cell/${cellId}`}, t("back"))));
}

/** The permit's tags: expired or expiring, and a yearly endorsement due (签注). */
export const permitTag = (due) => [
  due.expiring ? h("span", {class: due.expired ? "tag bad permit" : "tag warn permit"},
    due.expired ? `${t("permit_expired")} ${due.expiry}` : `${t("permit_expires")} ${due.expiry}`) : null,
  due.endorsement ? h("span", {class: due.endorsement.overdue ? "tag bad permit endorse" : "tag warn permit endorse"},
    t(due.endorsement.overdue ? "permit_endorse_overdue" : "permit_endorse").replace("{due}", due.endorsement.due)) : null];

export async function housePage(houseId, {scanned = false} = {}) {
  const data = await store.house(houseId);
  if (!data) return show(h("h1", {}, t("house")), h("p", {role: "alert"}, t("plate_unknown")));
  const {house, codes, flags, units, visits, tasks} = data;
  // The birth date is sealed with the rest (personal.js): open this house's few occupants.
  const occupants = await Promise.all(data.occupants.map(async (o) => ({...o, person: await opened(o.person)})));
  const rooms = new Map((await store.rooms(houseId)).map((r) => [r.id, r.name]));
  const taskSection = await (await import("./tasks.js")).houseSection(houseId, tasks);
  const review = await (await import("./review.js")).housePart(houseId);
  const base = `#/house/${houseId}`;
  show(
    h("h1", {}, store.address(house)),
    h("p", {class: "muted"}, codes.map((c) => `${c.kind === "temporary" ? t("temp_code") : t("code")} ${c.code}`).join(" · ")),
    h("p", {class: "muted", id: "housing-line"}, [label("use", house.use),
      house.living_area != null ? `${t("living_area")} ${house.living_area} m²` : null,
      rooms.size ? t("rooms_n").replace("{n}", rooms.size) : null].filter(Boolean).join(" · ")),
    flags.length ? h("ul", {class: "list", id: "flags"}, flags.map((f) => h("li", {class: "flag", "data-kind": f.kind},
      h("span", {class: "tag warn"}, label("flag", f.kind)), f.note ? h("span", {class: "muted"}, ` ${f.note}`) : null, " ",
      h("a", {class: "button small ghost", href: `${base}/flag/${f.id}/clear`}, t("flag_clear"))))) : null,
    h("div", {class: "actions wrap"},
      h("a", {class: "button", href: `${base}/visit${scanned ? "?scanned=1" : ""}`, id: "act-visit"}, t("record_visit")),
      h("a", {class: "button", href: `${base}/add-person`, id: "act-add"}, t("add_occupant")),
      h("a", {class: "button ghost", href: `${base}/flag`}, t("flag")),
      h("a", {class: "button ghost", href: `${base}/housing`, id: "act-housing"}, t("housing")),
      h("a", {class: "button ghost", href: `${base}/unit`}, t("add_unit"))),
    taskSection,
    h("h2", {}, `${t("occupants")} (${occupants.length})`),
    occupants.length ? h("ul", {class: "list", id: "occupants"}, occupants.map(({residency, person}) =>
      h("li", {class: "occupant", "data-person": person.id},
        h("div", {}, h("strong", {class: "name"}, person.name || "?"), " ", review.tag(residency.id), " ",
          h("span", {class: "muted"}, [label("sex", person.sex), person.birth_date || person.birth_date_masked,
            label("category", person.category)].filter(Boolean).join(" · ")),
          rooms.get(residency.room_id) ? h("span", {class: "tag"}, `${t("room")} ${rooms.get(residency.room_id)}`) : null,
          store.permitDue(person) ? [" ", permitTag(store.permitDue(person))] : null),
        h("div", {class: "muted mono"}, person.id_masked || "", person.phone_masked ? ` · ${person.phone_masked}` : ""),
        h("div", {class: "actions"},
          h("a", {class: "button small ghost", href: `${base}/person/${person.id}/edit`}, t("edit")),
          h("a", {class: "button small ghost", href: `${base}/residency/${residency.id}/move-out`}, t("move_out")),
          person.permit_expiry ? h("a", {class: "button small ghost", href: `${base}/person/${person.id}/endorse`}, t("endorse")) : null,
          review.action(residency.id)))))
      : h("p", {}, t("none")),
    review.moveOuts,
    units.length ? [h("h2", {}, t("units")), h("ul", {class: "list", id: "units"}, units.map((u) => h("li", {class: "unit"},
      h("strong", {}, u.name || "?"), h("span", {class: "muted"}, [label("unit_kind", u.kind), u.uscc].filter(Boolean).map((x) => ` ${x}`)),
      " ", h("a", {class: "button small ghost", href: `${base}/unit/${u.id}`}, t("edit")))))] : null,
    h("h2", {}, t("record_visit")),
    h("ul", {class: "list"}, visits.slice(0, 5).map((v) => h("li", {}, `${dateTime(v.visited_at)} ${label("outcome", v.outcome)}`))));
}
