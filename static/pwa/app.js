// Start-up and routing. Everything works from IndexedDB; the network is only for sync.
import {db, getMeta} from "./db.js";
import {lang, setLang, t} from "./i18n.js";
import * as outbox from "./outbox.js";
import * as bridge from "./sw-bridge.js";
import {schedule, sync} from "./sync.js";
import {h, show, toast} from "./ui.js";
import {searchIndex} from "./store.js";
import * as vault from "./vault.js";
import * as walk from "./walk.js";
import * as places from "./views/places.js";
import * as session from "./views/session.js";

const IDLE_MINUTES = 5;
let scheduled = false;
let idleTimer;

function chrome() {
  setLang(lang());
  for (const key of ["cells", "search", "scan"]) document.getElementById(`tab-${key}`).textContent = t(key);
  tasksBadge();
  outboxBadge();
  const button = document.getElementById("lang");
  button.textContent = lang() === "en" ? "中文" : "EN";
  button.lang = lang() === "en" ? "zh-CN" : "en";
  const net = document.getElementById("net");
  net.textContent = navigator.onLine ? t("online") : t("offline");
  net.className = navigator.onLine ? "net on" : "net off";
  bridge.showReadiness();
}

/** The tasks tab says how many open tasks are the coordinator's (or the cell's). */
function tasksBadge() {
  document.getElementById("tab-tasks").textContent = t("tasks");
  getMeta("device").then((d) => d && import("./views/tasks.js")).then((m) => m?.badge()).catch(() => {});
}

/** The 待同步 tab says how many changes wait (refused ones included: they wait for a fix). */
async function outboxBadge() {
  const tab = document.getElementById("tab-outbox");
  const n = (await getMeta("device")) ? (await outbox.all().catch(() => [])).length : 0;
  tab.replaceChildren(t("outbox"), n ? h("span", {class: "badge", id: "outbox-badge"}, String(n)) : "");
  tab.setAttribute("aria-label", n ? `${t("outbox")} ${n}` : t("outbox"));
}

/** After a sync that changed something the coordinator typed: say so. */
function tell(result) {
  const said = [];
  if (result.conflicts) said.push(t("toast_conflicts").replace("{n}", result.conflicts));
  if (result.decided) said.push(t("toast_decided").replace("{n}", result.decided));
  if (result.rejected) said.push(t("toast_rejected").replace("{n}", result.rejected));
  if (said.length) toast(said.join("；"));
}

function idle() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => { vault.lock(); route(); }, IDLE_MINUTES * 60 * 1000);
}

/** @type {Array<[RegExp, (...parts: string[]) => unknown]>} */
const ROUTES = [
  [/^#\/cell\/([^/]+)\/add-house$/, async (id) => (await import("./views/actions.js")).newHouse(id)],
  [/^#\/cell\/([^/]+)\/walk$/, (id) => places.walkPage(id)],
  [/^#\/cell\/([^/]+)\/map$/, async (id) => (await import("./views/map.js")).mapPage(id)],
  [/^#\/cell\/([^/]+)\/permits$/, (id) => places.permitsPage(id)],
  [/^#\/cell\/([^/]+)$/, (id) => places.cellPage(id)],
  [/^#\/house\/([^/]+)\/add-person$/, async (id) => (await import("./views/person.js")).addPerson(id)],
  [/^#\/house\/([^/]+)\/person\/([^/]+)\/edit$/, async (id, p) => (await import("./views/person.js")).editPerson(id, p)],
  [/^#\/house\/([^/]+)\/person\/([^/]+)\/endorse$/, async (id, p) => (await import("./views/person.js")).endorse(id, p)],
  [/^#\/house\/([^/]+)\/housing$/, async (id) => (await import("./views/housing.js")).housingPage(id)],
  [/^#\/house\/([^/]+)\/room\/([^/]+)$/, async (id, r) => (await import("./views/housing.js")).roomPage(id, r)],
  [/^#\/house\/([^/]+)\/residency\/([^/]+)\/move-out$/, async (id, r) => (await import("./views/actions.js")).moveOut(id, r)],
  [/^#\/house\/([^/]+)\/visit(\?scanned=1)?$/, async (id, s) => (await import("./views/actions.js")).visit(id, Boolean(s))],
  [/^#\/house\/([^/]+)\/flag$/, async (id) => (await import("./views/actions.js")).flag(id)],
  [/^#\/house\/([^/]+)\/unit$/, async (id) => (await import("./views/actions.js")).unit(id)],
  [/^#\/house\/([^/]+)\/unit\/([^/]+)$/, async (id, u) => (await import("./views/actions.js")).unit(id, u)],
  [/^#\/house\/([^/]+)\/flag\/([^/]+)\/clear$/, async (id, f) => (await import("./views/actions.js")).clearFlag(id, f)],
  [/^#\/house\/([^/]+)\/task\/([^/]+)\/close$/, async (id, task) => (await import("./views/tasks.js")).closeTask(id, task)],
  [/^#\/tasks$/, async () => (await import("./views/tasks.js")).listPage()],
  [/^#\/lead\/cell\/([^/]+)$/, async (id) => (await import("./views/lead.js")).cellPage(id)],
  [/^#\/house\/([^/?]+)(\?scanned=1)?$/, (id, s) => places.housePage(id, {scanned: Boolean(s)})],
  [/^#\/search$/, async () => (await import("./views/search.js")).searchPage()],
  [/^#\/scan$/, async () => (await import("./views/scan.js")).scanPage()],
  [/^#\/outbox$/, async () => (await import("./views/outbox.js")).render()],
];

let routing = Promise.resolve();

/** Render the view of the current hash. One view at a time, in order: a slow view that
 * finishes late (a house page still reading IndexedDB) must not cover a newer one. A render
 * asked for while another hash was current is skipped: the hash change queued its own, and
 * rendering the new view twice would wipe what was typed into its form in between (a sync that
 * ends just as the coordinator opens a form asks for one). */
function route() {
  const asked = location.hash;
  routing = routing.then(async () => {
    if (location.hash !== asked) return;
    await render(asked);
    // Which hash the screen shows now: until then the previous view may still be on screen.
    document.body.dataset.view = asked;
  }).catch((e) => show(h("p", {role: "alert"}, `${t("error")}: ${e.message}`)));
  return routing;
}

async function render(asked) {
  (await import("./views/scan.js")).stop();
  const device = await getMeta("device");
  const hash = asked || "#/cells";
  // No token: never logged in, or a login cut short before its token was sealed.
  if (!device?.token || hash === "#/login") return session.login();
  if (hash === "#/recover") return session.login({recover: true});
  if (device.revoked) return session.revoked();
  if (device.expired) return session.login({expired: true});
  if (!vault.unlocked()) return session.unlock();
  if (!scheduled) { scheduled = true; schedule(); }
  for (const [pattern, view] of ROUTES) {
    const m = pattern.exec(hash);
    if (m) return view(...m.slice(1));
  }
  // A grid lead's home is their cells' figures and what waits for review.
  if (device.user?.role === "grid_lead") return (await import("./views/lead.js")).home();
  return places.cellList();
}

async function openPlateLink() {
  // Opened as /h/<code> (a plate scanned with the phone's camera): show that house.
  if (!location.pathname.startsWith("/h/")) return;
  const {codeOf} = await import("./views/scan.js");
  const {houseByCode} = await import("./store.js");
  let target = "#/scan";
  try {
    const house = await houseByCode(codeOf(location.pathname));
    target = house ? `#/house/${house.id}?scanned=1` : "#/scan";
    if (!house) toast(t("plate_unknown"));
  } catch { toast(t("plate_unknown")); }
  history.replaceState(null, "", `/app/${target}`);
}

async function start() {
  chrome();
  document.getElementById("lang").addEventListener("click", () => { setLang(lang() === "en" ? "zh" : "en"); chrome(); route(); });
  window.addEventListener("online", chrome);
  window.addEventListener("offline", chrome);
  window.addEventListener("hashchange", route);
  window.addEventListener("gw:unlocked", () => { route(); sync("unlock"); searchIndex().catch(() => {}); });
  window.addEventListener("gw:outbox", tasksBadge);
  window.addEventListener("gw:outbox", outboxBadge);
  window.addEventListener("gw:synced", (ev) => {
    tasksBadge();
    outboxBadge();
    if (ev.detail) tell(ev.detail);
    if (!ev.detail?.ok) return;
    // Screens without a form only (a lead's cell page has return reasons being typed); the map
    // recolours itself in place, where the coordinator moved it.
    if (/^#\/(cells|tasks)?$|^#\/cell\/[^/]+(\/walk|\/permits)?$|^$/.test(location.hash)) route();
    walk.refresh(ev.detail);  // the walking order follows the houses the sync brought
    // Background tiles of the phone's cells, kept for offline use (only with MAP_TILE_URL).
    if (document.querySelector('meta[name="gw-tile-url"]')?.content) import("./tiles.js").then((m) => m.refresh()).catch(() => {});
  });
  window.addEventListener("gw:walk", () => { if (/^#\/cell\/[^/]+\/walk$/.test(location.hash)) route(); });
  window.addEventListener("gw:db-blocked", () => toast(t("db_blocked")));
  for (const ev of ["pointerdown", "keydown"]) document.addEventListener(ev, idle, {passive: true});
  idle();
  bridge.register().catch(() => {});
  await db();
  await openPlateLink();
  window.gridwalk = {sync, version: bridge.version, checkForUpdate: bridge.checkForUpdate, lock: () => { vault.lock(); route(); }};
  await route();
  document.body.dataset.ready = "true";
  setTimeout(() => searchIndex().catch(() => {}), 2000);  // off the start-up path, before the first search
}

start().catch((e) => show(h("p", {role: "alert"}, `${t("error")}: ${e.message}`)));
