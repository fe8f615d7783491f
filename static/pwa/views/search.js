// Search the phone's records offline (以人找房、以房找人).
import {db} from "../db.js";
import {t} from "../i18n.js";
import * as store from "../store.js";
import {h, show} from "../ui.js";

const SHOWN = 200;

export function searchPage() {
  const out = h("div", {id: "results", "aria-live": "polite"});
  const input = h("input", {type: "search", id: "q", name: "q", placeholder: t("search_hint"), autocomplete: "off"});
  const form = h("form", {role: "search", class: "card"}, h("label", {for: "q"}, t("search_hint")), input,
    h("button", {type: "submit"}, t("search")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const {people: found, houses, homes} = await store.search(input.value);
    // A common surname matches thousands: show the first ones and say so.
    const people = found.slice(0, SHOWN);
    const d = await db();
    const homeOf = new Map();
    for (const p of people) if (homes[p.id] && !homeOf.has(homes[p.id])) homeOf.set(homes[p.id], await d.get("house", homes[p.id]));
    /** @type {HTMLElement[]} */
    const nodes = [h("h2", {}, `${t("results")} (${found.length + houses.length})`)];
    // replaceChildren writes a null as the text "null": only nodes go in.
    if (found.length > SHOWN || houses.length > SHOWN) nodes.push(h("p", {class: "muted"}, t("results_more").replace("{n}", SHOWN)));
    nodes.push(h("ul", {class: "list", id: "found"},
      people.map((p) => h("li", {class: "found-person"}, h("a", {class: "row", href: homes[p.id] ? `#/house/${homes[p.id]}` : "#/search"},
        h("strong", {}, p.name || "?"), h("span", {class: "muted mono"}, ` ${p.id_masked || ""}`),
        homeOf.get(homes[p.id]) ? h("span", {class: "muted"}, ` ${store.address(homeOf.get(homes[p.id]))}`) : null))),
      houses.slice(0, SHOWN).map((x) => h("li", {class: "found-house"}, h("a", {class: "row", href: `#/house/${x.id}`}, store.address(x))))));
    out.replaceChildren(...nodes);
  });
  show(h("h1", {}, t("search")), form, out);
  input.focus();
  store.searchIndex().catch(() => {});  // build it while the coordinator types
}
