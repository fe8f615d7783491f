// Coverage map: cells coloured by their share of visited houses, house dots when zoomed in
// (a district has ~200,000 houses: never all at once), and a panel per cell.
// Leaflet is loaded before this module by a deferred classic script (/vendor/leaflet/...).
// All text comes from the page (translated there); data only from our own JSON endpoints.

const L = window.L;
const root = document.getElementById("coverage-map");
const status = document.getElementById("map-status");
const panel = document.getElementById("cell-panel");
const msg = (name) => root.dataset[`msg${name}`] || "";

let cycleData = null;
let selected = null; // {id, layer}
const layers = new Map(); // cell id -> polygon
let dotsAbort = null;

async function getJSON(url, signal) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, signal });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function say(text) {
  status.textContent = text;
}

function cellUrl(id) {
  return root.dataset.cellSrc.replace("00000000-0000-0000-0000-000000000000", encodeURIComponent(id));
}

function styleFor(cell, isSelected = false) {
  const band = cycleData.bands[cell.band];
  return {
    color: band.stroke, weight: isSelected ? 4 : 2, opacity: 1, fillColor: band.fill, fillOpacity: 0.35,
    className: `cell-shape band-${cell.band}`,
  };
}

function latLngsOf(boundary) {
  if (boundary.type === "Polygon") return L.GeoJSON.coordsToLatLngs(boundary.coordinates, 1);
  if (boundary.type === "MultiPolygon") return L.GeoJSON.coordsToLatLngs(boundary.coordinates, 2);
  return null;
}

function makeMap() {
  const map = L.map(root, { zoomSnap: 0.5, attributionControl: true });
  root.setAttribute("role", "region");
  root.setAttribute("aria-label", root.dataset.label);
  const tiles = root.dataset.tileUrl;
  if (tiles) {
    // Only when MAP_TILE_URL is configured: otherwise nothing leaves our origin.
    L.tileLayer(tiles, { attribution: root.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
  }
  return map;
}

function drawCells(map) {
  const bounds = L.latLngBounds([]);
  const shapes = [];
  for (const cell of cycleData.cells) {
    const latlngs = cell.boundary ? latLngsOf(cell.boundary) : null;
    if (!latlngs) continue;
    const polygon = L.polygon(latlngs, styleFor(cell));
    bounds.extend(polygon.getBounds());
    shapes.push([cell, polygon]);
  }
  if (cycleData.area && cycleData.area.type === "Polygon") {
    // A campaign's drawn area, over its cells (not clickable: the cells are).
    const area = L.polygon(latLngsOf(cycleData.area), {
      color: "#1d4ed8", weight: 3, dashArray: "6 4", fill: false, interactive: false, className: "campaign-area",
    }).addTo(map);
    bounds.extend(area.getBounds());
  }
  if (!bounds.isValid()) {
    map.setView([31.03, 121.23], 13);
    say(msg("NoOutline"));
    return;
  }
  map.fitBounds(bounds, { padding: [8, 8] });
  for (const [cell, polygon] of shapes) {
    polygon.addTo(map);
    layers.set(cell.id, polygon);
    const path = polygon.getElement();
    // Reachable by keyboard and named for screen readers; the table below has the same data.
    path.setAttribute("data-cell-id", cell.id);
    path.setAttribute("data-cell-code", cell.code);
    path.setAttribute("role", "button");
    path.setAttribute("tabindex", "0");
    path.setAttribute("aria-label", `${cell.code} ${cell.name}: ${cell.percent}`);
    path.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        selectCell(map, cell.id);
      }
    });
    polygon.on("click", () => selectCell(map, cell.id));
  }
}

// --- House dots -------------------------------------------------------------------------

const dotLayer = L.layerGroup();
const cellDotLayer = L.layerGroup();

function addDots(group, dots) {
  group.clearLayers();
  for (const dot of dots) {
    const style = cycleData.dots[dot.status];
    const marker = L.circleMarker([dot.lat, dot.lon], {
      radius: 5, color: "#fff", weight: 1.5, fillColor: style.color, fillOpacity: 1,
      className: `house-dot dot-${dot.status}`,
    });
    // Built as DOM nodes, never HTML strings: addresses are data.
    marker.bindPopup(() => {
      const box = document.createElement("div");
      const link = document.createElement("a");
      link.href = dot.url;
      link.textContent = dot.address;
      const state = document.createElement("div");
      state.textContent = style.label;
      box.append(link, state);
      return box;
    });
    group.addLayer(marker);
  }
}

async function loadDots(map) {
  if (dotsAbort) dotsAbort.abort();
  if (map.getZoom() < cycleData.dots_min_zoom) {
    dotLayer.clearLayers();
    say(selected ? "" : msg("Zoom"));
    return;
  }
  dotsAbort = new AbortController();
  const b = map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
  try {
    const data = await getJSON(`${root.dataset.dotsSrc}&bbox=${bbox}`, dotsAbort.signal);
    addDots(dotLayer, data.dots);
    say(data.too_many ? msg("TooMany") : "");
  } catch (error) {
    if (error.name !== "AbortError") say(msg("Error"));
  }
}

// --- The cell panel ---------------------------------------------------------------------

function fillPanel(data) {
  const cell = data.cell;
  panel.querySelector("#cell-panel-title").textContent = `${cell.code} ${cell.name}`;
  panel.querySelector(".panel-committee").textContent = cell.committee;
  const assign = /** @type {HTMLAnchorElement | null} */ (panel.querySelector(".panel-assign"));
  if (assign) assign.href = assign.dataset.hrefTemplate.replace("00000000-0000-0000-0000-000000000000", encodeURIComponent(cell.id));
  for (const dd of /** @type {NodeListOf<HTMLElement>} */ (panel.querySelectorAll("[data-field]"))) {
    const key = dd.dataset.field;
    dd.textContent = key === "unvisited-count" ? String(data.unvisited.length) : String(cell[key]);
  }
  const list = panel.querySelector(".unvisited");
  list.replaceChildren(...data.unvisited.map((house) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = house.url;
    link.textContent = house.address;
    item.append(link);
    return item;
  }));
  /** @type {HTMLElement} */ (panel.querySelector("[data-none]")).hidden = data.unvisited.length > 0;
  panel.hidden = false;
  panel.dataset.cellId = cell.id;
}

async function selectCell(map, id) {
  const previous = selected && layers.get(selected);
  const cellOf = (cellId) => cycleData.cells.find((c) => c.id === cellId);
  if (previous) {
    previous.setStyle(styleFor(cellOf(selected)));
    previous.getElement().classList.remove("cell-selected");
  }
  selected = id;
  const layer = layers.get(id);
  if (layer) {
    layer.setStyle(styleFor(cellOf(id), true));
    layer.getElement().classList.add("cell-selected");
    layer.bringToFront();
  }
  say(msg("Loading"));
  try {
    const data = await getJSON(cellUrl(id));
    if (selected !== id) return; // another cell was chosen meanwhile
    fillPanel(data);
    addDots(cellDotLayer, data.dots);
    say("");
  } catch {
    say(msg("Error"));
  }
}

function closePanel() {
  panel.hidden = true;
  cellDotLayer.clearLayers();
  if (selected && layers.get(selected)) {
    const cell = cycleData.cells.find((c) => c.id === selected);
    layers.get(selected).setStyle(styleFor(cell));
    layers.get(selected).getElement().classList.remove("cell-selected");
  }
  selected = null;
}

async function main() {
  if (!root || !L) return;
  const map = makeMap();
  say(msg("Loading"));
  try {
    cycleData = await getJSON(root.dataset.src);
  } catch {
    say(msg("Error"));
    return;
  }
  say("");
  drawCells(map);
  dotLayer.addTo(map);
  cellDotLayer.addTo(map);
  map.on("moveend", () => loadDots(map));
  loadDots(map);
  panel.querySelector("[data-close]").addEventListener("click", closePanel);
  for (const button of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll(".cell-link[data-cell-id]"))) {
    button.addEventListener("click", () => {
      const layer = layers.get(button.dataset.cellId);
      if (layer) map.fitBounds(layer.getBounds(), { maxZoom: 17 });
      selectCell(map, button.dataset.cellId);
      root.scrollIntoView({ behavior: "smooth", block: "start" });
    });
  }
  root.dataset.ready = "true"; // for tests and for people: the map has drawn its cells
}

main();
