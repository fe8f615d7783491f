// The map of a cell, offline: its outline (and the other cells' faintly), every house from the
// synced data as a point — red not yet visited this cycle, green visited — the walking route
// through the unvisited ones, and the phone's own position with its accuracy circle; a tap on a
// house opens it. Leaflet (precached by the service worker) is loaded only when a map opens,
// so the app's start stays small. Background tiles only with MAP_TILE_URL (tiles.js).
import {db, getMeta} from "../db.js";
import {forTiles} from "../gcj02.js";
import {t} from "../i18n.js";
import * as store from "../store.js";
import * as tiles from "../tiles.js";
import {h, show} from "../ui.js";

const COLOURS = {unvisited: "#b00020", visited: "#1b5e20", me: "#0b5394"};
let loading = null;
let current = null;  // {cellId, map, markers: Map(id → marker), watch}

function load(tag, attrs) {
  return new Promise((resolve, reject) => {
    const el = document.createElement(tag);
    Object.assign(el, attrs);
    el.onload = () => resolve(el);
    el.onerror = () => reject(new Error(`${attrs.src || attrs.href} did not load`));
    document.head.append(el);
  });
}

/** Leaflet, loaded once (from the service worker's cache when offline). */
export function leaflet() {
  if (window.L) return Promise.resolve(window.L);
  if (!loading) {
    const url = (name) => document.querySelector(`meta[name="${name}"]`).content;
    loading = Promise.all([load("link", {rel: "stylesheet", href: url("gw-leaflet-css")}), load("script", {src: url("gw-leaflet")})])
      .then(() => window.L);
    loading.catch(() => { loading = null; });
  }
  return loading;
}

const rings = (boundary) => (boundary?.type === "Polygon" ? [boundary.coordinates]
  : boundary?.type === "MultiPolygon" ? boundary.coordinates : []);

function stop() {
  if (!current) return;
  if (current.watch != null) navigator.geolocation?.clearWatch(current.watch);
  current.map.remove();
  current = null;
}

function style(visited) {
  const key = visited ? "visited" : "unvisited";
  return {radius: 7, color: "#fff", weight: 1.5, fillColor: COLOURS[key], fillOpacity: 1, className: `house-dot ${key}`};
}

function label(house) {
  return `${store.address(house)}，${house.visited ? t("map_visited") : t("map_unvisited")}`;
}

/** Houses sharing one point (the flats of one entrance): one list to choose from. */
function chooser(houses) {
  return h("ul", {class: "list map-choice"}, houses.map((x) => h("li", {},
    h("a", {href: `#/house/${x.id}`}, store.address(x)), " ",
    h("span", {class: x.visited ? "tag ok" : "tag"}, x.visited ? t("visited") : t("not_visited")))));
}

export async function mapPage(cellId) {
  stop();
  // Leaflet loads (and parses) while the houses are read.
  const d = await db();
  const [L, cells, houses, walk, kept] = await Promise.all([leaflet(), d.getAll("cell"), store.housesOf(cellId),
    getMeta("walk"), getMeta("tiles")]);
  const cell = cells.find((c) => c.id === cellId);
  const s = tiles.settings();
  const shift = forTiles(s.crs);
  const at = (lon, lat) => { const [x, y] = shift(lon, lat); return [y, x]; };
  const placed = houses.filter((x) => Number.isFinite(x.lon) && Number.isFinite(x.lat));
  const unvisited = houses.filter((x) => !x.visited).length;
  const box = h("div", {class: "map-box", id: "map", role: "region", "aria-label": t("map")});
  const status = h("p", {class: "muted", id: "map-status", role: "status"});
  const me = h("p", {class: "muted", id: "map-me", "aria-live": "polite"});
  show(h("h1", {}, t("map_title").replace("{name}", cell?.name || cell?.code || "")),
    h("p", {id: "map-figures"}, t("map_houses").replace("{n}", houses.length).replace("{u}", unvisited)),
    h("div", {class: "map-legend"},
      h("span", {}, h("span", {class: "swatch unvisited"}), t("map_unvisited")),
      h("span", {}, h("span", {class: "swatch visited"}), t("map_visited")),
      h("span", {}, h("span", {class: "swatch me"}), t("map_me"))),
    box, status, me,
    h("p", {class: "actions wrap"}, h("a", {class: "button ghost", href: `#/cell/${cellId}`}, t("back"))));

  const map = L.map(box, {zoomSnap: 0.5, attributionControl: Boolean(s.url)});
  current = {cellId, map, markers: new Map(), watch: null};
  if (s.url) {
    tiles.layer(L, s).addTo(map);
    const sizes = Object.values(kept || {});
    status.textContent = t("map_tiles").replace("{n}", sizes.length).replace("{size}", `${(sizes.reduce((a, b) => a + b, 0) / 1048576).toFixed(1)} MB`);
  } else {
    status.textContent = t("map_no_tiles");
  }
  // The view first (Leaflet draws nothing before it has one): the cell's outline and its houses.
  const outlines = [];
  for (const other of cells) {
    for (const polygon of rings(other.boundary)) outlines.push([other.id === cellId, polygon.map((ring) => ring.map(([lon, lat]) => at(lon, lat)))]);
  }
  const bounds = L.latLngBounds([]);
  for (const [mine, latlngs] of outlines) if (mine) latlngs.forEach((ring) => ring.forEach((p) => bounds.extend(p)));
  for (const x of placed) bounds.extend(at(x.lon, x.lat));
  if (bounds.isValid()) map.fitBounds(bounds, {padding: [12, 12], maxZoom: 18});
  else map.setView([31.03, 121.23], 15);
  for (const [mine, latlngs] of outlines) {
    L.polygon(latlngs, mine ? {color: COLOURS.me, weight: 3, fill: false, interactive: false, className: "cell-outline mine"}
      : {color: "#767676", weight: 1, dashArray: "4 4", fill: false, interactive: false, className: "cell-outline"}).addTo(map);
  }
  // The walking route through what is left to visit, in the order fetched with the houses.
  const order = walk?.cells?.[cellId];
  if (order) {
    const byId = new Map(placed.map((x) => [x.id, x]));
    const path = order.map((id) => byId.get(id)).filter((x) => x && !x.visited).map((x) => at(x.lon, x.lat));
    if (path.length > 1) L.polyline(path, {color: COLOURS.me, weight: 2, opacity: 0.7, dashArray: "6 6", interactive: false, className: "walk-route"}).addTo(map);
  }
  const byPoint = new Map();
  for (const x of placed) {
    const key = `${x.lon.toFixed(6)},${x.lat.toFixed(6)}`;
    if (!byPoint.has(key)) byPoint.set(key, []);
    byPoint.get(key).push(x);
  }
  for (const x of placed) {
    const marker = L.circleMarker(at(x.lon, x.lat), style(x.visited)).addTo(map);
    const together = byPoint.get(`${x.lon.toFixed(6)},${x.lat.toFixed(6)}`);
    const open = () => {
      if (together.length === 1) location.hash = `#/house/${x.id}`;
      else marker.bindPopup(chooser(together)).openPopup();
    };
    marker.on("click", open);
    const el = marker.getElement();
    const drawn = marker.getLatLng();
    // Where it is drawn (shifted for GCJ-02 tiles), and which house: for keyboards and checks.
    Object.assign(el.dataset, {house: x.id, lat: String(drawn.lat), lng: String(drawn.lng)});
    el.setAttribute("role", "link");
    el.setAttribute("tabindex", "0");
    el.setAttribute("aria-label", label(x));
    el.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); open(); } });
    current.markers.set(x.id, marker);
  }
  follow(L, map, at, me);
  if (s.url) tiles.refresh().catch(() => {});
  document.body.dataset.mapHouses = String(placed.length);  // drawn: for tests and the benchmark
}

/** The phone's own position, followed while the map is open. */
function follow(L, map, at, line) {
  if (!navigator.geolocation) { line.textContent = t("map_no_position"); return; }
  let dot = null, ring = null;
  current.watch = navigator.geolocation.watchPosition((p) => {
    const where = at(p.coords.longitude, p.coords.latitude);
    const radius = Math.max(p.coords.accuracy || 0, 1);
    if (!dot) {
      ring = L.circle(where, {radius, color: COLOURS.me, weight: 1, fillOpacity: 0.1, interactive: false, className: "me-accuracy"}).addTo(map);
      dot = L.circleMarker(where, {radius: 6, color: "#fff", weight: 2, fillColor: COLOURS.me, fillOpacity: 1, interactive: false,
        className: "me"}).addTo(map);
    } else {
      dot.setLatLng(where);
      ring.setLatLng(where).setRadius(radius);
    }
    line.textContent = `${t("map_me")}：${t("map_accuracy").replace("{m}", Math.round(radius))}`;
  }, () => { line.textContent = t("map_no_position"); }, {enableHighAccuracy: true, maximumAge: 10000, timeout: 20000});
}

/** After a sync or a save while the map shows: recolour the houses in place (the view stays
 * where the coordinator moved it). */
export async function recolour() {
  if (!current) return;
  for (const x of await store.housesOf(current.cellId)) {
    const marker = current.markers.get(x.id);
    if (!marker) continue;
    marker.setStyle(style(x.visited));
    const el = marker.getElement();
    el.classList.toggle("visited", x.visited);
    el.classList.toggle("unvisited", !x.visited);
    el.setAttribute("aria-label", label(x));
  }
}

if (typeof window !== "undefined") {
  window.addEventListener("hashchange", () => { if (current && !/\/map$/.test(location.hash)) stop(); });
  window.addEventListener("gw:synced", () => { recolour().catch(() => {}); });
  window.addEventListener("gw:outbox", () => { recolour().catch(() => {}); });
}
