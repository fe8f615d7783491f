// The GB/T 2260 lists the forms need, loaded when a form first opens, never at start: together
// 45 KiB gzip, more than a third of the shell (bench figure 5). Both are precached by the service
// worker, so they load offline in milliseconds. The hukou district picker: current counties
// grouped by province (/app/regions.json), the list the server checks a hukou_region against
// (webapp/validation/area_codes.py); a region is picked, never typed.
import {setCounties, setKnownAreaCodes} from "./validation.js";
import {h} from "./ui.js";

let loading = null, areas = null;

/** Both lists in the validators before a form checks anything: the ID number's "unknown area"
 * warning (/app/area-codes.json, current and retired codes) and the hukou region's check. A list
 * that cannot load leaves its check to the server, as before it loaded. */
export function areaLists() {
  if (!areas) {
    areas = fetch("/app/area-codes.json").then((r) => r.json()).then(setKnownAreaCodes)
      .catch(() => { areas = null; });
  }
  return Promise.all([areas, regions().catch(() => null)]);
}

/** [[province, [[code, full name], …]], …], loaded once. */
export function regions() {
  if (!loading) {
    loading = fetch("/app/regions.json").then((r) => r.json()).then((groups) => {
      setCounties(groups.flatMap(([, counties]) => counties.map(([code]) => code)));
      return groups;
    }).catch((e) => { loading = null; throw e; });
  }
  return loading;
}

/** A county's full name ("上海市松江区"), a province's from its two-digit mask ("31" → "上海市"). */
export async function regionName(code) {
  if (!code) return "";
  const groups = await regions();
  if (String(code).length === 2) return groups.find(([, counties]) => counties[0]?.[0].startsWith(code))?.[0] || code;
  for (const [, counties] of groups) {
    const found = counties.find(([c]) => c === code);
    if (found) return found[1];
  }
  return code;
}

/** Two selects, province then county; the county one is the form's `hukou_region`. */
export async function regionPicker(labels, value = "") {
  const groups = await regions();
  const seq = Math.random().toString(36).slice(2, 8);
  const province = h("select", {id: `f-province-${seq}`, "data-skip": "1"},
    h("option", {value: ""}, labels.choose), groups.map(([name], i) => h("option", {value: String(i)}, name)));
  const county = h("select", {id: `f-hukou_region-${seq}`, name: "hukou_region"});
  const fill = (index, chosen = "") => {
    const counties = index === "" ? [] : groups[Number(index)][1];
    county.replaceChildren(h("option", {value: ""}, labels.choose),
      ...counties.map(([code, name]) => h("option", {value: code, selected: code === chosen}, name)));
  };
  const at = groups.findIndex(([, counties]) => counties.some(([code]) => code === value));
  province.value = at >= 0 ? String(at) : "";
  fill(province.value, value);
  province.addEventListener("change", () => { fill(province.value); county.dispatchEvent(new Event("change", {bubbles: true})); });
  return h("div", {class: "field region"},
    h("label", {for: province.id}, labels.province), province,
    h("label", {for: county.id}, labels.county), county,
    h("p", {class: "error", id: `${county.id}-err`, "data-error-for": "hukou_region", hidden: true}));
}
