// The one IndexedDB connection: a store per synced table, the outbox, meta (key/value), and the
// sealed journal of ID and phone numbers that offline search reads (digits.js).
export const TABLES = ["committee", "cell", "house", "house_code", "room", "house_flag", "house_event",
  "unit", "person", "residency", "visit", "task", "review"];
const INDEXES = {house: ["cell_id"], house_code: ["code", "house_id"], room: ["house_id"], house_flag: ["house_id"],
  house_event: ["house_id"], unit: ["house_id"], residency: ["house_id", "person_id"], visit: ["house_id"], task: ["house_id"],
  review: ["house_id"]};
export const HOUSE_CHILDREN = ["house_code", "room", "house_flag", "house_event", "unit", "visit", "task", "review", "residency"];
const NAME = "gridwalk";
// 2: the `review` store (审核). Rows of a new store may already have passed this phone's cursor
// (an older app ignored them), so an upgrade pulls everything again.
// 3: persons' personal fields sealed (personal.js) and the `digits` journal. Sealing needs the data
// key, which only the PIN opens: the upgrade marks the database (meta "reseal") and reseal.js does
// the work after the first unlock.
// 4: the task store (待办), until now `tip`, its first name (issue 20): in the upgrade's own
// transaction every row moves to `task`, the outbox's queued mutations of type "tip" say "task",
// and the `tip` store goes. Nothing typed is lost: the transaction commits all of it or none.
const VERSION = 4;
// Stores renamed since an earlier version: first name → name now.
const RENAMED = {tip: "task"};
export const DIGITS = "digits";
let opening = null;
let closed = false;  // a newer version of the app took the database over: this tab must reload

const tell = (name) => window.dispatchEvent(new CustomEvent(name));

function upgrade(d, oldVersion, _newVersion, tx) {
  if (oldVersion >= 1 && oldVersion < 2 && d.objectStoreNames.contains("meta")) tx.objectStore("meta").delete("cursor");
  for (const table of TABLES) {
    if (d.objectStoreNames.contains(table)) continue;
    const store = d.createObjectStore(table, {keyPath: "id"});
    for (const index of INDEXES[table] || []) store.createIndex(index, index);
  }
  if (!d.objectStoreNames.contains("outbox")) d.createObjectStore("outbox", {keyPath: "seq"});
  if (!d.objectStoreNames.contains("meta")) d.createObjectStore("meta");
  if (!d.objectStoreNames.contains(DIGITS)) d.createObjectStore(DIGITS, {autoIncrement: true});
  if (oldVersion >= 1 && oldVersion < 3) tx.objectStore("meta").put(true, "reseal");
  // Half a rename is worse than none: any failure aborts the whole upgrade (the old database
  // stays as it was, and the app says it could not open it).
  if (oldVersion >= 1 && oldVersion < 4) rename(d, tx).catch(() => { try { tx.abort(); } catch { /* already ended */ } });
}

/** Move the rows of renamed stores to their new stores and retype the queued mutations. Runs
 * inside the version change transaction (IndexedDB requests only): it stays open until done. */
async function rename(d, tx) {
  for (const [first, now] of Object.entries(RENAMED)) {
    if (!d.objectStoreNames.contains(first)) continue;
    const rows = await tx.objectStore(first).getAll();
    const store = tx.objectStore(now);
    for (const row of rows) store.put(row);
    d.deleteObjectStore(first);
  }
  let cursor = await tx.objectStore("outbox").openCursor();
  while (cursor) {
    if (Object.hasOwn(RENAMED, cursor.value.type)) cursor.update({...cursor.value, type: RENAMED[cursor.value.type]});
    cursor = await cursor.continue();
  }
}

export function db() {
  if (closed) return Promise.reject(new Error("the database was upgraded by a newer version of the app: reload"));
  if (!opening) {
    const url = document.querySelector('meta[name="gw-idb"]').content;
    opening = import(url).then(({openDB}) => openDB(NAME, VERSION, {
      upgrade,
      // Another tab still runs an older version and keeps it open: tell the user.
      blocked: () => tell("gw:db-blocked"),
      // This tab is the old one: close (a transaction under way still completes) so the newer
      // tab can upgrade, and ask the user to reload when ready — reloading by itself would
      // throw away a form being typed.
      blocking: () => { closed = true; opening.then((d) => d.close()); tell("gw:db-closed"); },
      terminated: () => { opening = null; },
    }));
    opening.catch((error) => {
      opening = null;
      // Old code on a database a newer version already upgraded: same answer, reload.
      if (error?.name === "VersionError") { closed = true; tell("gw:db-closed"); }
    });
  }
  return opening;
}

export async function getMeta(key) { return (await db()).get("meta", key); }
/** Meta writes need a registered device: a job still running when logout wiped the phone (a
 * fetch that answers late) must not write the coordinator's data back into an empty database. */
export async function setMeta(key, value) {
  const tx = (await db()).transaction("meta", "readwrite");
  if (key === "device" || (await tx.store.get("device"))) await tx.store.put(value, key);
  await tx.done;
}

export async function wipe() {
  const d = await db();
  const stores = [...TABLES, "outbox", "meta", DIGITS];
  const tx = d.transaction(stores, "readwrite");
  await Promise.all(stores.map((s) => tx.objectStore(s).clear()));
  await tx.done;
}
