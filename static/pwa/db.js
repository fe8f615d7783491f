// The one IndexedDB connection: a store per synced table, the outbox, and meta (key/value).
export const TABLES = ["committee", "cell", "house", "house_code", "room", "house_flag", "house_event",
  "unit", "person", "residency", "visit", "tip"];
const INDEXES = {house: ["cell_id"], house_code: ["code", "house_id"], room: ["house_id"], house_flag: ["house_id"],
  house_event: ["house_id"], unit: ["house_id"], residency: ["house_id", "person_id"], visit: ["house_id"], tip: ["house_id"]};
export const HOUSE_CHILDREN = ["house_code", "room", "house_flag", "house_event", "unit", "visit", "tip", "residency"];
const NAME = "gridwalk";
const VERSION = 1;
let opening = null;

function upgrade(d) {
  for (const table of TABLES) {
    if (d.objectStoreNames.contains(table)) continue;
    const store = d.createObjectStore(table, {keyPath: "id"});
    for (const index of INDEXES[table] || []) store.createIndex(index, index);
  }
  if (!d.objectStoreNames.contains("outbox")) d.createObjectStore("outbox", {keyPath: "seq"});
  if (!d.objectStoreNames.contains("meta")) d.createObjectStore("meta");
}

export function db() {
  if (!opening) {
    const url = document.querySelector('meta[name="gw-idb"]').content;
    opening = import(url).then(({openDB}) => openDB(NAME, VERSION, {
      upgrade,
      // Another tab still runs an older version and keeps it open: tell the user.
      blocked: () => window.dispatchEvent(new CustomEvent("gw:db-blocked")),
      // This tab is the old one: step aside so the newer tab can upgrade, then reload.
      blocking: () => { opening.then((d) => d.close()); opening = null; window.dispatchEvent(new CustomEvent("gw:db-outdated")); },
      terminated: () => { opening = null; },
    }));
    opening.catch(() => { opening = null; });
  }
  return opening;
}

export async function getMeta(key) { return (await db()).get("meta", key); }
export async function setMeta(key, value) { return (await db()).put("meta", value, key); }

export async function wipe() {
  const d = await db();
  const tx = d.transaction([...TABLES, "outbox", "meta"], "readwrite");
  await Promise.all([...TABLES, "outbox", "meta"].map((s) => tx.objectStore(s).clear()));
  await tx.done;
}
