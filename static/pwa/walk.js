// The walking order of the phone's cells (GET /api/walk), fetched after a good sync and kept in
// IndexedDB meta, so the cell view can list unvisited houses "按路线" with no network.
import {getMeta, setMeta} from "./db.js";

let fetching = null;

/** After a sync: fetch again when the sync brought changes (houses may have moved) or none is kept. */
export function refresh(synced = {}) {
  if (fetching) return fetching;
  fetching = (async () => {
    if (!synced.pulled && !synced.pushed && (await getMeta("walk"))) return null;
    const device = await getMeta("device");
    if (!device?.token || device.revoked) return null;
    const response = await fetch("/api/walk", {headers: {Accept: "application/json", Authorization: `Bearer ${device.token}`},
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
