// The walking order of the phone's cells (GET /api/walk), fetched after a good sync and kept in
// IndexedDB meta, so the cell view can list unvisited houses "按路线" with no network.
import {token} from "./api.js";
import {getMeta, setMeta} from "./db.js";

let fetching = null;

/** After a sync: fetch again when the sync brought changes (houses may have moved) or none is kept. */
export function refresh(synced = {}) {
  if (fetching) return fetching;
  fetching = (async () => {
    if (!synced.pulled && !synced.pushed && (await getMeta("walk"))) return null;
    const device = await getMeta("device");
    const tok = device && !device.revoked ? await token(device) : null;
    if (!tok) return null;
    const response = await fetch("/api/walk", {headers: {Accept: "application/json", Authorization: `Bearer ${tok}`},
      cache: "no-store"});
    if (!response.ok) return null;
    const body = await response.json();
    const cells = Object.fromEntries(body.cells.map((c) => [c.cell_id, c.houses]));
    await setMeta("walk", {at: new Date().toISOString(), cells});
    window.dispatchEvent(new CustomEvent("gw:walk"));
    return cells;
  })().catch(() => null).finally(() => { fetching = null; });
  return fetching;
}
