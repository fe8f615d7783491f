// Cells → houses → the house page.
import {label, t} from "../i18n.js";
import * as store from "../store.js";
import {h, show} from "../ui.js";
import {maskPhone} from "../validation.js";

export async function cellList() {
  const cells = await store.cells();
  show(h("h1", {}, t("cells")), cells.length ? h("ul", {class: "list"}, cells.map((c) =>
    h("li", {}, h("a", {href: `#/cell/${c.id}`, class: "row"}, h("strong", {}, c.name || c.code),
      h("span", {class: "muted"}, ` ${c.code} · ${t("houses")} ${c.houses}`))))) : h("p", {}, t("none")));
}

export async function cellPage(cellId) {
  const houses = await store.housesOf(cellId);
  show(h("h1", {}, t("houses")),
    h("p", {}, h("a", {class: "button", href: `#/cell/${cellId}/add-house`}, t("add_house"))),
    h("ul", {class: "list"}, houses.map((x) => h("li", {}, h("a", {href: `#/house/${x.id}`, class: "row"},
      h("strong", {}, store.address(x)),
      h("span", {class: x.visited ? "tag ok" : "tag"}, x.visited ? t("visited") : t("not_visited")),
      h("span", {class: "muted"}, ` ${t("occupants")} ${x.occupants}`),
      x.tips ? h("span", {class: "tag warn"}, `${t("open_tips")} ${x.tips}`) : null)))));
}

export async function housePage(houseId, {scanned = false} = {}) {
  const data = await store.house(houseId);
  if (!data) return show(h("h1", {}, t("house")), h("p", {role: "alert"}, t("plate_unknown")));
  const {house, occupants, codes, flags, units, visits} = data;
  const base = `#/house/${houseId}`;
  show(
    h("h1", {}, store.address(house)),
    h("p", {class: "muted"}, codes.map((c) => `${c.kind === "temporary" ? t("temp_code") : t("code")} ${c.code}`).join(" · ")),
    flags.length ? h("p", {}, flags.map((f) => h("span", {class: "tag warn"}, label("flag", f.kind)))) : null,
    h("div", {class: "actions wrap"},
      h("a", {class: "button", href: `${base}/visit${scanned ? "?scanned=1" : ""}`, id: "act-visit"}, t("record_visit")),
      h("a", {class: "button", href: `${base}/add-person`, id: "act-add"}, t("add_occupant")),
      h("a", {class: "button ghost", href: `${base}/flag`}, t("flag")),
      h("a", {class: "button ghost", href: `${base}/unit`}, t("add_unit"))),
    h("h2", {}, `${t("occupants")} (${occupants.length})`),
    occupants.length ? h("ul", {class: "list", id: "occupants"}, occupants.map(({residency, person}) =>
      h("li", {class: "occupant", "data-person": person.id},
        h("div", {}, h("strong", {class: "name"}, person.name || "?"), " ",
          h("span", {class: "muted"}, [label("sex", person.sex), person.birth_date, label("category", person.category)].filter(Boolean).join(" · "))),
        h("div", {class: "muted mono"}, person.id_masked || "", person.phone ? ` · ${maskPhone(person.phone)}` : ""),
        h("div", {class: "actions"},
          h("a", {class: "button small ghost", href: `${base}/person/${person.id}/edit`}, t("edit")),
          h("a", {class: "button small ghost", href: `${base}/residency/${residency.id}/move-out`}, t("move_out"))))))
      : h("p", {}, t("none")),
    units.length ? [h("h2", {}, t("units")), h("ul", {class: "list"}, units.map((u) => h("li", {}, u.name)))] : null,
    h("h2", {}, t("record_visit")),
    h("ul", {class: "list"}, visits.slice(0, 5).map((v) => h("li", {}, `${v.visited_at.slice(0, 16).replace("T", " ")} ${label("outcome", v.outcome)}`))));
}
