// Phones that ran the app before issue 15 kept a person's phone, birth date, hukou fields, notes
// and the last six ID digits in clear beside the encrypted ID number (enough to rebuild most ID
// numbers), and the device token in clear. db.js marks such a database when it upgrades it (meta
// "reseal"); after the first unlock — sealing needs the data key — every person, every queued
// person change and the token are sealed the new way, tasks' reporter phones and units' contacts
// (never shown) are dropped, the clear copies deleted, and the search journal gets its first
// snapshot: all in one transaction and under the sync lock, so no sync writes in between.
import {db, DIGITS, getMeta} from "./db.js";
import * as digits from "./digits.js";
import {sealValues} from "./outbox.js";
import {CLEAR, local, minimal, stored} from "./personal.js";
import {exclusive} from "./sync.js";
import {open, seal} from "./vault.js";

// Keys of the old format: the ID number sealed alone, its masked form and its last six digits.
const OLD = ["id_enc", "id_masked", "id_tail"];

async function plain(values) {
  const out = {...values};
  for (const k of OLD) delete out[k];
  if ("id_enc" in values) {
    try { out.id_number = values.id_enc ? await open(values.id_enc) : null; } catch { out.id_number = null; }
  }
  return out;
}

const isOld = (row) => !row.sealed && Object.keys(row).some((k) => !CLEAR.has(k));

/** Re-seal an upgraded phone's records; true when there was something to do. */
export async function resealOld() {
  if (!(await getMeta("reseal"))) return false;
  return exclusive(async () => {
    const d = await db();
    const [people, entries] = await Promise.all([d.getAll("person"), d.getAll("outbox")]);
    const rows = [], numbers = new Map();
    for (const p of people) {
      if (!isOld(p)) { rows.push(p); continue; }
      const values = await plain(p);
      rows.push(await stored(values));
      numbers.set(p.id, [values.id_number || null, values.phone || null]);
    }
    const queued = [];
    for (const e of entries) {
      if (e.type !== "person") continue;
      queued.push({...e, fields: await sealValues("person", e.fields || {}), base: await sealValues("person", e.base || {}),
        local: e.local && !e.local.patch ? await local(await plain(e.local)) : e.local});
    }
    // Persons already in the new form (none on a real upgrade) keep their numbers too.
    const known = await digits.rebuildFor(rows.filter((p) => !numbers.has(p.id)));
    for (const [id, pair] of known) numbers.set(id, pair);
    const snapshot = await digits.sealSnapshot(numbers);
    // The device token too: in clear, a copy of the storage was a live login to the server.
    const device = await getMeta("device");
    const token = typeof device?.token === "string" ? await seal(device.token) : device?.token;
    const tx = d.transaction(["person", "outbox", "meta", DIGITS, "task", "unit"], "readwrite");
    if (device) tx.objectStore("meta").put({...device, token}, "device");
    for (const table of ["task", "unit"]) {
      const store = tx.objectStore(table);
      for (const row of await store.getAll()) store.put(minimal(table, row));
    }
    for (const row of rows) tx.objectStore("person").put(row);
    for (const e of queued) tx.objectStore("outbox").put(e);
    const journal = tx.objectStore(DIGITS);
    await journal.clear();
    journal.add(snapshot);
    tx.objectStore("meta").delete("reseal");
    await tx.done;
    digits.drop();  // opened again from the new snapshot
    return true;
  });
}
