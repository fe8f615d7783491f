// The outbox: every change is appended here, with the local record written in the same
// transaction, before the screen says "saved". Entries leave only on an acknowledged outcome.
import {db, TABLES} from "./db.js";
import {open, seal} from "./vault.js";
import {uuid} from "./ui.js";

const SECRET = new Set(["id_number"]);

async function sealValues(values) {
  const out = {...values};
  for (const k of Object.keys(out)) if (SECRET.has(k) && out[k]) out[k] = {$enc: await seal(out[k])};
  return out;
}

async function openValues(values) {
  const out = {...values};
  for (const k of Object.keys(out)) if (out[k] && out[k].$enc) out[k] = await open(out[k].$enc);
  return out;
}

/** Append mutations [{type, op, record_id, base_version, fields, base, local}] and apply `local`. */
export async function save(mutations) {
  // Encrypt first: a transaction must never wait on anything but IndexedDB itself.
  const ready = [];
  for (const m of mutations) ready.push({...m, fields: await sealValues(m.fields), base: await sealValues(m.base || {})});
  const d = await db();
  const stores = [...new Set(ready.map((m) => m.type))];
  const tx = d.transaction(["outbox", "meta", ...stores], "readwrite");
  let seq = (await tx.objectStore("meta").get("seq")) || 0;
  const at = new Date().toISOString();
  for (const m of ready) {
    seq += 1;
    await tx.objectStore("outbox").add({...m, id: uuid(), seq, at, state: "pending"});
    await applyLocal(tx.objectStore(m.type), m);
  }
  await tx.objectStore("meta").put(seq, "seq");
  await tx.done;
  window.dispatchEvent(new CustomEvent("gw:outbox"));
}

export async function applyLocal(store, m) {
  const current = await store.get(m.record_id);
  if (m.op === "delete") return store.delete(m.record_id);
  if (m.op === "create" && current && current.version > 0) return undefined;  // the server's row won
  return store.put({...(current || {id: m.record_id, version: 0}), ...m.local, id: m.record_id});
}

export async function all() { return (await db()).getAll("outbox"); }
export async function pendingCount() { return (await all()).filter((e) => e.state === "pending").length; }

/** The mutation as the server wants it (ID numbers decrypted, local-only keys dropped). */
export async function wire(e) {
  return {id: e.id, seq: e.seq, type: e.type, op: e.op, record_id: e.record_id, base_version: e.base_version ?? null,
    fields: await openValues(e.fields), base: await openValues(e.base || {}), at: e.at};
}

/** Re-queue a fixed entry (and what it blocked): new ids and new seqs, as the server keeps the old ones.
 * `fixes` are the corrected wire fields of the first entry, `local` what they change in its record. */
export async function resend(seqs, fixes = {}, local = {}) {
  const d = await db();
  const sealed = await sealValues(fixes);
  const tx = d.transaction(["outbox", "meta", ...TABLES], "readwrite");
  let seq = (await tx.objectStore("meta").get("seq")) || 0;
  for (const old of seqs) {
    const e = await tx.objectStore("outbox").get(old);
    if (!e) continue;
    await tx.objectStore("outbox").delete(old);
    seq += 1;
    const first = old === seqs[0];
    // The form shows only the fields the server refused: each of them is replaced, present before or not.
    const fields = first ? {...e.fields, ...sealed} : e.fields;
    const fixedLocal = first ? {...e.local, ...local} : e.local;
    await tx.objectStore("outbox").add({...e, fields, local: fixedLocal, id: uuid(), seq, state: "pending",
      errors: undefined, blocked_by: undefined});
    if (first && Object.keys(local).length) {
      // The phone's copy shows the fix at once (masked number, sex and birth date from the new ID).
      const store = tx.objectStore(e.type);
      const row = await store.get(e.record_id);
      if (row) await store.put({...row, ...local});
    }
  }
  await tx.objectStore("meta").put(seq, "seq");
  await tx.done;
  window.dispatchEvent(new CustomEvent("gw:outbox"));
}

/** The rescue file of docs/sync.md §6. */
export async function exportFile() {
  const device = await (await db()).get("meta", "device");
  const mutations = [];
  for (const e of await all()) mutations.push(await wire(e));
  const blob = new Blob([JSON.stringify({device_id: device?.device_id, protocol: 1, mutations}, null, 1)], {type: "application/json"});
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `gridwalk-outbox-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  // The last seq in the file: logout may wipe only what the file holds, not what was queued after.
  const lastSeq = mutations.reduce((top, m) => Math.max(top, m.seq), 0);
  await (await db()).put("meta", {at: new Date().toISOString(), count: mutations.length, last_seq: lastSeq}, "exported");
  return mutations.length;
}
