// Background map tiles of the phone's cells, kept for offline use. Only with MAP_TILE_URL set
// (the shell carries it, with MAP_TILE_CRS, the attribution and MAP_TILE_CACHE_MB): after a
// sync, the tiles covering each cell's outline at zoom 15–18 are fetched into Cache Storage,
// lowest zoom first, until the phone's budget is spent; tiles of cells no longer on the phone
// are dropped. The map reads them from there first, so it draws them with no network.
import {db, getMeta, setMeta} from "./db.js";
import {forTiles} from "./gcj02.js";

export const CACHE = "gridwalk-tiles";
export const ZOOMS = [15, 16, 17, 18];
const SUBDOMAINS = "abc";  // Leaflet's default {s}
const AT_ONCE = 4;

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content || "";

export function settings() {
  return {url: meta("gw-tile-url"), crs: meta("gw-tile-crs") || "wgs84", attribution: meta("gw-tile-attribution"),
    budget: (Number(meta("gw-tile-mb")) || 30) * 1024 * 1024};
}

/** A tile's URL, as Leaflet makes it from the same template. */
export function tileUrl(template, {x, y, z}) {
  return template.replace("{s}", SUBDOMAINS[Math.abs(x + y) % SUBDOMAINS.length])
    .replace("{z}", String(z)).replace("{x}", String(x)).replace("{y}", String(y)).replace("{r}", "");
}

const lonX = (lon, z) => Math.floor(((lon + 180) / 360) * 2 ** z);
function latY(lat, z) {
  const r = (lat * Math.PI) / 180;
  return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
}

function corners(boundary) {
  if (!boundary) return [];
  const rings = boundary.type === "Polygon" ? boundary.coordinates : boundary.type === "MultiPolygon" ? boundary.coordinates.flat() : [];
  return rings.flat();
}

/** The tiles ({x, y, z}) over the cells' outlines, zoom by zoom, each once. */
export function tilesOf(cells, crs = "wgs84") {
  const shift = forTiles(crs);
  const boxes = cells.map((c) => corners(c.boundary).map(([lon, lat]) => shift(lon, lat))).filter((pts) => pts.length);
  const out = [], seen = new Set();
  for (const z of ZOOMS) {
    for (const pts of boxes) {
      const lons = pts.map((p) => p[0]), lats = pts.map((p) => p[1]);
      const [x0, x1] = [lonX(Math.min(...lons), z), lonX(Math.max(...lons), z)];
      const [y0, y1] = [latY(Math.max(...lats), z), latY(Math.min(...lats), z)];
      for (let x = x0; x <= x1; x++) {
        for (let y = y0; y <= y1; y++) {
          const key = `${z}/${x}/${y}`;
          if (!seen.has(key)) { seen.add(key); out.push({x, y, z}); }
        }
      }
    }
  }
  return out;
}

async function fetchTile(url) {
  try {
    const response = await fetch(url, {mode: "cors", credentials: "omit"});
    if (!response.ok) return null;
    const blob = await response.blob();
    return {blob, size: blob.size};
  } catch {
    return null;
  }
}

let running = null;

/** Keep the tiles of the phone's cells: drop those of cells gone, fetch what is missing within
 * the budget. Answers {count, bytes, wanted} (null without tiles, offline, or logged out). */
export function refresh() {
  const s = settings();
  if (!s.url || !navigator.onLine) return Promise.resolve(null);
  if (running) return running;
  running = (async () => {
    if (!(await getMeta("device"))) return null;
    const wanted = tilesOf(await (await db()).getAll("cell"), s.crs).map((c) => tileUrl(s.url, c));
    const keep = new Set(wanted);
    const cache = await caches.open(CACHE);
    const index = {...((await getMeta("tiles")) || {})};
    for (const url of Object.keys(index)) {
      if (!keep.has(url)) { await cache.delete(url); delete index[url]; }
    }
    let bytes = Object.values(index).reduce((a, b) => a + b, 0);
    const missing = wanted.filter((url) => !(url in index));
    let full = false;
    for (let i = 0; i < missing.length && !full; i += AT_ONCE) {
      const batch = missing.slice(i, i + AT_ONCE);
      const got = await Promise.all(batch.map(fetchTile));
      for (let k = 0; k < batch.length; k++) {
        if (!got[k]) continue;
        if (bytes + got[k].size > s.budget) { full = true; break; }
        await cache.put(batch[k], new Response(got[k].blob, {headers: {"Content-Type": got[k].blob.type || "image/png"}}));
        index[batch[k]] = got[k].size;
        bytes += got[k].size;
      }
    }
    await setMeta("tiles", index);
    return {count: Object.keys(index).length, bytes, wanted: wanted.length};
  })().catch(() => null).finally(() => { running = null; });
  return running;
}

/** Forget every kept tile (logout). */
export async function wipe() {
  await caches.delete(CACHE);
}

/** A Leaflet tile layer that reads kept tiles first and goes to the network only for others. */
export function layer(L, s = settings()) {
  const Kept = L.TileLayer.extend({
    createTile(coords, done) {
      const img = document.createElement("img");
      img.alt = "";
      img.setAttribute("role", "presentation");
      const url = tileUrl(s.url, coords);
      img.onload = () => { if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src); done(null, img); };
      img.onerror = (e) => done(e, img);
      caches.open(CACHE).then((cache) => cache.match(url)).then(async (hit) => {
        if (hit) img.src = URL.createObjectURL(await hit.blob());
        else if (navigator.onLine) img.src = url;
        else done(new Error("offline, tile not kept"), img);
      }).catch((e) => done(e, img));
      return img;
    },
  });
  return new Kept(s.url, {attribution: s.attribution, maxZoom: 19, maxNativeZoom: 18});
}
