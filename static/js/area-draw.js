// Drawing a campaign's area: click on the map to add corners; the polygon is written into
// the GeoJSON textarea (WGS-84 lon/lat; the server checks it), which also works without JS.
// Cells are drawn for reference from /campaigns/cells.json (WGS-84, never shifted).

const L = window.L;
const root = document.getElementById("area-map");
const textarea = /** @type {HTMLTextAreaElement} */ (document.getElementById("boundary"));
const status = document.getElementById("area-status");

let corners = [];
let shape = null;
let map = null;
let cellBounds = null;

// Leaflet takes a string as HTML: names are data, so they go in as an element's text.
function textNode(text) {
  const span = document.createElement("span");
  span.textContent = text;
  return span;
}

function round(v) {
  return Math.round(v * 1e7) / 1e7;
}

function write() {
  if (corners.length < 3) {
    textarea.value = "";
    status.textContent = corners.length ? `${corners.length} / 3` : "";
  } else {
    const ring = corners.map((c) => [round(c.lng), round(c.lat)]);
    ring.push(ring[0]);
    textarea.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
    status.textContent = String(corners.length);
  }
}

function redraw() {
  if (shape) shape.remove();
  shape = corners.length ? L.polygon(corners, { color: "#1d4ed8", weight: 3, dashArray: "6 4", fillOpacity: 0.1, interactive: false, className: "drawn-area" }).addTo(map) : null;
  write();
}

function readTextarea() {
  try {
    const geometry = JSON.parse(textarea.value);
    if (geometry && geometry.type === "Polygon") {
      corners = geometry.coordinates[0].slice(0, -1).map(([lon, lat]) => L.latLng(lat, lon));
      redraw();
      if (shape) map.fitBounds(shape.getBounds(), { maxZoom: 18 });
    }
  } catch {
    // Not JSON (yet): the server will say what is wrong with it.
  }
}

// A map made while its fieldset was hidden has no size: measure it again and show the area
// drawn so far, else every cell.
function fit() {
  if (!map) return;
  map.invalidateSize();
  if (shape) map.fitBounds(shape.getBounds(), { maxZoom: 18 });
  else if (cellBounds && cellBounds.isValid()) map.fitBounds(cellBounds, { padding: [8, 8] });
}

function toggle() {
  const kind = /** @type {HTMLInputElement | null} */ (document.querySelector("input[name=area_kind]:checked"));
  const polygon = kind && kind.value === "polygon";
  document.getElementById("area-polygon").hidden = !polygon;
  document.getElementById("area-cells").hidden = polygon;
  return polygon;
}

async function main() {
  for (const radio of document.querySelectorAll("input[name=area_kind]")) radio.addEventListener("change", () => {
    if (toggle()) fit();
  });
  toggle();
  if (!root || !L) return;
  map = L.map(root, { zoomSnap: 0.5 });
  root.setAttribute("role", "region");
  root.setAttribute("aria-label", root.dataset.label);
  if (root.dataset.tileUrl) {
    L.tileLayer(root.dataset.tileUrl, { attribution: root.dataset.tileAttribution || "", maxZoom: 19 }).addTo(map);
  }
  map.setView([31.03, 121.23], 13);
  map.on("click", (event) => {
    corners.push(event.latlng);
    redraw();
  });
  document.getElementById("area-undo").addEventListener("click", () => {
    corners.pop();
    redraw();
  });
  document.getElementById("area-clear").addEventListener("click", () => {
    corners = [];
    redraw();
  });
  textarea.addEventListener("change", () => readTextarea());
  try {
    const response = await fetch(root.dataset.cellsSrc, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    const data = await response.json();
    cellBounds = L.latLngBounds([]);
    for (const cell of data.cells) {
      // Interactive so that hovering shows the cell's tooltip; its clicks still reach the map
      // (Leaflet bubbles them), so a corner can be put inside a cell.
      const outline = L.polygon(L.GeoJSON.coordsToLatLngs(cell.boundary.coordinates, 1), {
        color: "#6b7280", weight: 1, fillOpacity: 0.05, className: "draw-cell",
      }).addTo(map);
      outline.bindTooltip(textNode(`${cell.code} ${cell.name}`));
      outline.getElement().setAttribute("data-cell-code", cell.code); // where to draw, for people and tests
      cellBounds.extend(outline.getBounds());
    }
    if (!document.getElementById("area-polygon").hidden) fit();
  } catch {
    status.textContent = root.dataset.msgError;
  }
  if (textarea.value) readTextarea();
  root.dataset.ready = "true";
}

main();
