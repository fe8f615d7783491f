// Choosing a user's cells on the map: each cell is drawn from our own JSON (WGS-84, as stored);
// clicking a cell (or Enter/Space on it) ticks or unticks its checkbox in the list below, and
// ticking in the list recolours the map. The list alone works without scripts.
// Leaflet is loaded before this module by a deferred classic script (/vendor/leaflet/...).

const L = window.L;
const root = document.getElementById("pick-map");
const status = document.getElementById("pick-status");
const count = document.getElementById("pick-count");
const COLOURS = {
  mine: { color: "#1d4ed8", fillColor: "#3b82f6", fillOpacity: 0.45, weight: 3 },
  free: { color: "#6b7280", fillColor: "#ffffff", fillOpacity: 0.15, weight: 1.5 },
  other: { color: "#92400e", fillColor: "#f59e0b", fillOpacity: 0.25, weight: 1.5, dashArray: "4 3" },
};

/** @returns {HTMLInputElement | null} */
function box(id) {
  return document.querySelector(`input[name="cells"][value="${CSS.escape(id)}"]`);
}

function textNode(text) {
  const span = document.createElement("span");
  span.textContent = text; // names are data: never HTML
  return span;
}

function paint(cell, polygon) {
  const ticked = box(cell.id)?.checked;
  const state = ticked ? "mine" : cell.state === "other" ? "other" : "free";
  polygon.setStyle(COLOURS[state]);
  const path = polygon.getElement();
  path.setAttribute("data-state", state);
  path.setAttribute("aria-pressed", ticked ? "true" : "false");
}

function updateCount() {
  if (count) count.textContent = String(document.querySelectorAll('input[name="cells"]:checked').length);
}

async function main() {
  if (!root || !L) return;
  const map = L.map(root, { zoomSnap: 0.5 });
  root.setAttribute("role", "region");
  root.setAttribute("aria-label", root.dataset.label);
  let data;
  try {
    const response = await fetch(root.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    data = await response.json();
  } catch {
    status.textContent = root.dataset.msgError;
    return;
  }
  // Outlines first: the map needs its view before a polygon has an element to label.
  const bounds = L.latLngBounds([]);
  const shapes = [];
  for (const cell of data.cells) {
    if (!cell.boundary || cell.boundary.type !== "Polygon" || !box(cell.id)) continue;
    const polygon = L.polygon(L.GeoJSON.coordsToLatLngs(cell.boundary.coordinates, 1), { className: "pick-cell" });
    bounds.extend(polygon.getBounds());
    shapes.push([cell, polygon]);
  }
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [8, 8] });
  else {
    map.setView([31.03, 121.23], 13);
    status.textContent = root.dataset.msgNoOutline;
  }
  for (const [cell, polygon] of shapes) {
    polygon.addTo(map);
    polygon.bindTooltip(textNode(`${cell.code} ${cell.name}`));
    const path = polygon.getElement();
    path.setAttribute("data-cell-code", cell.code);
    path.setAttribute("data-cell-id", cell.id);
    path.setAttribute("role", "button");
    path.setAttribute("tabindex", "0");
    path.setAttribute("aria-label", `${cell.code} ${cell.name}`);
    const toggle = () => {
      const input = box(cell.id);
      input.checked = !input.checked;
      paint(cell, polygon);
      updateCount();
    };
    polygon.on("click", toggle);
    path.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        toggle();
      }
    });
    box(cell.id).addEventListener("change", () => {
      paint(cell, polygon);
      updateCount();
    });
    paint(cell, polygon);
  }
  root.dataset.ready = "true"; // for tests and for people: the cells are drawn
}

main();
