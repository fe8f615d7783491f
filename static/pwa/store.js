// Reading the local records: cells, houses, occupants, codes, search.
import {formatAddress, matches, naturalCompare, tokens} from "./address.js";
import {dateOf, midnight} from "./clock.js";
import {db, getMeta} from "./db.js";
import * as digits from "./digits.js";
import {shanghaiToday} from "./validation.js";

/** A house's address as the console writes it (address.js: one rule for both). */
export const address = (h) => formatAddress(h || {});
/** Houses in natural address order (101室 before 1001室). */
export const byAddress = (a, b) => naturalCompare(address(a), address(b));

export async function cells() {
  const d = await db();
  const houses = await d.getAll("house");
  return (await d.getAll("cell")).map((c) => ({...c, houses: houses.filter((h) => h.cell_id === c.id).length}))
    .sort((a, b) => String(a.code).localeCompare(String(b.code)));
}

/** The first moment of the current collection cycle as the server counts it (geo/cycles.py):
 * a month or a quarter (COLLECTION_CYCLE, carried by the shell), from midnight in the registry's
 * zone (clock.js) whatever the phone's own. */
export function cycleStart(now = new Date()) {
  const [year, month] = dateOf(now).split("-").map(Number);
  let index = month - 1;
  if (document.querySelector('meta[name="gw-cycle"]')?.content === "quarter") index -= index % 3;
  return midnight(year, index, 1).toISOString();
}

export async function housesOf(cellId) {
  const d = await db();
  const since = cycleStart();
  const [list, total] = await Promise.all([d.getAllFromIndex("house", "cell_id", cellId), d.count("house")]);
  const rows = await houseRows(d, list, total);
  const out = list.map((h, i) => {
    const [visits, stays, tasks, flags] = rows[i];
    return {...h, visited: visits.some((v) => v.visited_at >= since), occupants: stays.filter((r) => !r.end_date).length,
      tasks: tasks.filter((t) => t.status === "open").length, flags: flags.filter((f) => !f.cleared_at && !f.deleted_at).length};
  });
  const written = new Map(out.map((x) => [x.id, address(x)]));
  return out.sort((a, b) => naturalCompare(written.get(a.id), written.get(b.id)));
}

// A phone holding little more than this cell (a coordinator's two cells) reads the four stores
// whole, in four requests; one holding much more (a lead's, a centre's) asks per house. Four
// awaited requests per house, a transaction each, made a 127-house cell take a second at 4× CPU
// throttle; 508 in one transaction, about 200 ms; four, a few tens.
const WHOLE_STORES_UP_TO = 10;
const CHILDREN = ["visit", "residency", "task", "house_flag"];

export async function houseRows(d, list, total) {
  const tx = d.transaction(CHILDREN);
  if (total <= WHOLE_STORES_UP_TO * list.length) {
    const wanted = new Map(list.map((h, i) => [h.id, i]));
    const out = list.map(() => CHILDREN.map(() => []));
    const stores = await Promise.all(CHILDREN.map((s) => tx.objectStore(s).getAll()));
    stores.forEach((rows, k) => {
      for (const r of rows) { const i = wanted.get(r.house_id); if (i !== undefined) out[i][k].push(r); }
    });
    return out;
  }
  return Promise.all(list.map((h) => Promise.all(CHILDREN.map((s) => tx.objectStore(s).index("house_id").getAll(h.id)))));
}

const HOUSE_PAGE = ["residency", "house_code", "house_flag", "unit", "visit", "task"];

/** Everything the house page shows, in one transaction with every request in flight (each
 * awaited in a transaction of its own, the page opened at every door waited on a dozen). */
export async function house(id) {
  const tx = (await db()).transaction(["house", "person", ...HOUSE_PAGE]);
  const [h, stays, codes, flags, units, visits, tasks] = await Promise.all([tx.objectStore("house").get(id),
    ...HOUSE_PAGE.map((s) => tx.objectStore(s).index("house_id").getAll(id))]);
  const residencies = stays.filter((r) => !r.end_date);
  const persons = await Promise.all(residencies.map((r) => tx.objectStore("person").get(r.person_id)));
  if (!h) return null;
  return {house: h, occupants: residencies.map((r, i) => ({residency: r, person: persons[i] || {id: r.person_id}})), codes,
    flags: flags.filter((f) => !f.cleared_at), units, visits: visits.sort((a, b) => b.visited_at.localeCompare(a.visited_at)),
    tasks: tasks.filter((t) => t.status === "open")};
}

export async function houseByCode(code) {
  const d = await db();
  const row = (await d.getAllFromIndex("house_code", "code", code)).find((c) => !c.deleted_at && !c.retired_at);
  return row ? d.get("house", row.house_id) : null;
}

// The search index: built from IndexedDB once per unlock and again after the data changes (a
// sync, or a save on this phone), in the background, so a search only scans precomputed
// strings. Reading 50,000 persons takes seconds on a slow phone; a query takes milliseconds.
// ID and phone numbers come from digits.js (opened at unlock); a locked phone has no index.
let index = null;
let rebuild = null;
const norm = (text) => String(text ?? "").normalize("NFKC").replace(/\s+/g, "").toUpperCase();

/** The data changed: build a new index soon (a search meanwhile waits for it). */
export function staleIndex() {
  index = null;
  clearTimeout(rebuild);
  rebuild = setTimeout(() => { searchIndex().catch(() => {}); }, 1000);
}
if (typeof window !== "undefined") {
  // A sync that moved nothing (most of the periodic ones) keeps the index.
  window.addEventListener("gw:synced", (ev) => { if (!ev.detail?.ok || ev.detail.pulled || ev.detail.pushed) staleIndex(); });
  window.addEventListener("gw:outbox", staleIndex);
  window.addEventListener("gw:locked", () => { clearTimeout(rebuild); index = null; });
}

async function buildIndex() {
  const numbers = await digits.ready();
  if (!numbers) return null;
  const d = await db();
  const [persons, houses, codes, residencies] = await Promise.all(
    ["person", "house", "house_code", "residency"].map((s) => d.getAll(s)));
  const codesOf = new Map();
  for (const c of codes) {
    if (c.deleted_at || c.retired_at) continue;
    codesOf.set(c.house_id, `${codesOf.get(c.house_id) || ""} ${norm(c.code)}`);
  }
  const homes = new Map();
  for (const r of residencies) if (!r.end_date) homes.set(r.person_id, r.house_id);
  return {
    // A role that sees numbers masked searches the digits the mask shows ("138****5678").
    people: persons.map((p) => {
      const [number, phone] = numbers.get(p.id) || [];
      return {p, name: norm(p.name), phone: phone || p.phone_masked || "", number: number || p.id_masked || ""};
    }),
    houses: houses.map((h) => ({h, words: tokens(address(h)), codes: codesOf.get(h.id) || ""})),
    homes,
  };
}

/** The index, built now if the data changed since the last one (also to warm it up). */
export async function searchIndex() {
  if (!index) {
    clearTimeout(rebuild);
    const building = buildIndex();
    index = building;
    // Locked meanwhile, or failed: the next search builds again.
    building.then((built) => { if (!built && index === building) index = null; }, () => { if (index === building) index = null; });
  }
  return index;
}

/** Persons and houses matching `query`; nothing while the phone is locked (`locked: true`). */
export async function search(query) {
  const q = norm(query);
  if (!q) return {people: [], houses: [], homes: {}};
  const built = await searchIndex();
  if (!built) return {people: [], houses: [], homes: {}, locked: true};
  const {people: rows, houses: places, homes: homeOf} = built;
  const numeric = /^[0-9]{3,17}[0-9X]?$/.test(q);
  const tailOnly = numeric && q.length >= 4 && q.length <= 6;
  const people = [];
  for (const r of rows) {
    if (r.name.includes(q) || (numeric && r.phone.includes(q)) || (tailOnly && r.number.endsWith(q)) ||
      (numeric && q.length > 6 && r.number === q)) people.push(r.p);
  }
  const words = tokens(query);
  const houses = places.filter((x) => x.codes.includes(q) || matches(words, x.words)).map((x) => x.h).sort(byAddress);
  const homes = {};
  for (const p of people) homes[p.id] = homeOf.get(p.id);
  return {people, houses, homes};
}

// The shell carries the registry's permit settings (rule "permits"): the warning days, and
// the yearly endorsement's window in days with the card's validity in years ("30/3").
export const permitDays = () => Number(document.querySelector('meta[name="gw-permit-days"]')?.content) || 30;

export function permitSettings() {
  const [window, years] = (document.querySelector('meta[name="gw-permit-endorse"]')?.content || "").split("/").map(Number);
  return {warn: permitDays(), window: window || 30, years: years || 3};
}

const dayNumber = (iso) => Math.floor(Date.parse(`${iso}T00:00:00Z`) / 86400000);
const isoDay = (n) => new Date(n * 86400000).toISOString().slice(0, 10);
const leap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** The same day `years` later (ISO dates); 29 February becomes 28 February in a common year.
 * Past the calendar's ends, its last or first day, as permit_due.py's `add_years` (a year
 * 10000 also sorted before 9999 as text). */
export function addYears(iso, years) {
  const [y, m, d] = iso.split("-").map(Number);
  if (y + years > 9999) return "9999-12-31";
  if (y + years < 1) return "0001-01-01";
  const day = m === 2 && d === 29 && !leap(y + years) ? 28 : d;
  return `${String(y + years).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** The anniversaries [years since issue, ISO date] before the expiry (permit_due.py `anniversaries`).
 * @returns {Array<[number, string]>} */
function anniversaries(expiry, issued, validity) {
  if (!issued) {
    /** @type {Array<[number, string]>} */
    const out = [];
    for (let j = validity - 1; j >= 1; j--) out.push([validity - j, addYears(expiry, -j)]);
    return out;
  }
  /** @type {Array<[number, string]>} */
  const out = [];
  for (let k = 1; k < 100; k++) {
    const day = addYears(issued, k);
    if (day >= expiry) break;
    out.push([k, day]);
  }
  return out;
}

/** What the registry's permits rule finds for this person today, step for step
 * (webapp/registry/rules/permit_due.py; both tested against tests/vectors/permits.json): null, or
 * {expiry, days, expired, expiring, endorsement: {due, days, year, overdue} | null}, where `days`
 * is to the nearer thing to do. A card is endorsed yearly in the window before each anniversary
 * of its issue (recorded, or its expiry less the validity); an endorsement recorded once the
 * window opened clears it; the last anniversary passed without one is overdue. */
export function permitDue(person, today = shanghaiToday(), s = permitSettings()) {
  const expiry = person?.permit_expiry;
  if (!expiry) return null;
  const days = dayNumber(expiry) - dayNumber(today);
  const expiring = days <= s.warn;
  let endorsement = null;
  if (!expiring) {
    const endorsed = person.permit_endorsed_on;
    const done = (at) => Boolean(endorsed) && dayNumber(endorsed) >= dayNumber(at) - s.window;
    const all = anniversaries(expiry, person.permit_issued || null, s.years);
    const windowEnd = isoDay(dayNumber(today) + s.window);
    const passed = all.filter(([, at]) => at < today);
    const coming = all.filter(([, at]) => today <= at && at <= windowEnd);
    const make = ([k, at], overdue) => ({due: at, days: dayNumber(at) - dayNumber(today), year: k, overdue});
    if (coming.length && !done(coming[0][1])) endorsement = make(coming[0], false);
    else if (!coming.length && passed.length && !done(passed[passed.length - 1][1])) endorsement = make(passed[passed.length - 1], true);
  }
  if (!expiring && !endorsement) return null;
  return {expiry, days: expiring ? days : endorsement.days, expired: days < 0, expiring, endorsement};
}

/** Occupants of a cell's houses whose permits are due, soonest first. */
export async function permitsDue(cellId) {
  const d = await db();
  const out = [];
  for (const h of await d.getAllFromIndex("house", "cell_id", cellId)) {
    for (const r of await d.getAllFromIndex("residency", "house_id", h.id)) {
      if (r.end_date) continue;
      const person = await d.get("person", r.person_id);
      const due = permitDue(person);
      if (due) out.push({person, house: h, ...due});
    }
  }
  return out.sort((a, b) => a.days - b.days || String(a.person.name).localeCompare(String(b.person.name), "zh"));
}

/** A cell's unvisited houses in the walking order fetched from the server (walk.js); houses
 * it does not know yet (added since) follow by address. Null when no order was fetched. */
export async function walkOf(cellId) {
  const order = (await getMeta("walk"))?.cells?.[cellId];
  if (!order) return null;
  const houses = await housesOf(cellId);
  const rank = new Map(order.map((id, i) => [id, i]));
  return houses.filter((x) => !x.visited)
    .sort((a, b) => (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity));
}

export async function rooms(houseId) {
  const rows = await (await db()).getAllFromIndex("room", "house_id", houseId);
  return rows.filter((r) => !r.deleted_at).sort((a, b) => String(a.name).localeCompare(String(b.name), "zh", {numeric: true}));
}
