// The outbox: every change is appended here, with the local record written in the same
// transaction, before the screen says "saved". Entries leave only on an acknowledged outcome.
// A person's personal values (personal.js) wait here sealed, one by one ({$enc}), and are opened
// only to be sent or exported: both need the vault unlocked (a locked phone does not sync).
import {db, DIGITS, TABLES} from "./db.js";
import * as digits from "./digits.js";
import {isPersonal, local as localOf, numbers} from "./personal.js";
import * as rescueKey from "./rescuekey.js";
import {Rows, sent} from "./rows.js";
import {seal as sealFile} from "./seal.js";
import {open, seal} from "./vault.js";
import {uuid} from "./ui.js";

export async function sealValues(type, values) {
  const out = {...values};
  for (const [k, v] of Object.entries(out)) if (isPersonal(type, k) && typeof v === "string") out[k] = {$enc: await seal(v)};
  return out;
}

async function openValues(values) {
  const out = {...values};
  for (const k of Object.keys(out)) if (out[k] && out[k].$enc) out[k] = await open(out[k].$enc);
  return out;
}

const personNumbers = (ms) => ms.filter((m) => m.type === "person").map((m) => numbers(m.record_id, m.fields || {}));

/** Append mutations [{type, op, record_id, base_version, fields, base, local}] and apply `local`.
 * `local` is in the stored record's terms: a person's from personal.local(). */
export async function save(mutations) {
  // Encrypt first: a transaction must never wait on anything but IndexedDB itself.
  const ready = [];
  for (const m of mutations) ready.push({...m, fields: await sealValues(m.type, m.fields), base: await sealValues(m.type, m.base || {})});
  const found = await digits.change(personNumbers(mutations));
  const d = await db();
  const stores = [...new Set(ready.map((m) => m.type))];
  const tx = d.transaction(["outbox", "meta", DIGITS, ...stores], "readwrite");
  let seq = (await tx.objectStore("meta").get("seq")) || 0;
  const at = new Date().toISOString();
  const rows = new Rows(tx);
  for (const m of ready) rows.read(m.type, m.record_id);
  for (const m of ready) {
    seq += 1;
    const entry = {...m, id: uuid(), seq, at, state: "pending"};
    sent(tx.objectStore("outbox").add(entry));
    await applyLocal(rows, entry);
  }
  digits.write(tx, found);
  await tx.objectStore("meta").put(seq, "seq");
  await tx.done;
  window.dispatchEvent(new CustomEvent("gw:outbox"));
}

/** An entry's `local` over the stored record (read and written through `rows`, a Rows of the
 * entry's transaction). A sealed `patch` is kept under the entry's seq:
 * the record is opened with its patches in seq order (personal.opened), so queued edits layer
 * over the server's row as plain values would, without opening anything here. */
export async function applyLocal(rows, e) {
  if (e.op === "delete") return rows.remove(e.type, e.record_id);
  const current = await rows.read(e.type, e.record_id);
  if (e.op === "create" && current && current.version > 0) return undefined;  // the server's row won
  const {patch, ...plain} = e.local || {};
  const row = {...(current || {id: e.record_id, version: 0}), ...plain, id: e.record_id};
  if (patch) row.patches = {...row.patches, [e.seq]: patch};
  return rows.put(e.type, row);
}

export async function all() { return (await db()).getAll("outbox"); }
export async function pendingCount() { return (await all()).filter((e) => e.state === "pending").length; }

/** The mutation as the server wants it (personal values opened, local-only keys dropped). */
export async function wire(e) {
  return {id: e.id, seq: e.seq, type: e.type, op: e.op, record_id: e.record_id, base_version: e.base_version ?? null,
    fields: await openValues(e.fields), base: await openValues(e.base || {}), at: e.at};
}

/** Re-queue a fixed entry (and what it blocked): new ids and new seqs, as the server keeps the old ones.
 * `fixes` are the corrected wire fields of the first entry, `local` what they change in its record
 * (plain values: a person's are sealed here, over what the entry already changed). */
export async function resend(seqs, fixes = {}, local = {}) {
  const d = await db();
  const head = await d.get("outbox", seqs[0]);
  const type = head?.type;
  const sealed = await sealValues(type, fixes);
  const fixedLocal = type === "person" ? await localOf(local, head.local) : {...head?.local, ...local};
  const found = type === "person" ? await digits.change([numbers(head.record_id, fixes)]) : null;
  const tx = d.transaction(["outbox", "meta", DIGITS, ...TABLES], "readwrite");
  let seq = (await tx.objectStore("meta").get("seq")) || 0;
  const rows = new Rows(tx);
  for (const old of seqs) {
    const e = await tx.objectStore("outbox").get(old);
    if (!e) continue;
    await tx.objectStore("outbox").delete(old);
    seq += 1;
    const first = old === seqs[0];
    // The form shows only the fields the server refused: each of them is replaced, present before or not.
    const fields = first ? {...e.fields, ...sealed} : e.fields;
    const entry = {...e, fields, local: first ? fixedLocal : e.local, id: uuid(), seq, state: "pending",
      errors: undefined, blocked_by: undefined};
    await tx.objectStore("outbox").add(entry);
    // The phone's copy shows the fix at once (masked number, sex and birth date from the new ID).
    if (first && Object.keys(local).length && (await rows.read(e.type, e.record_id))) await applyLocal(rows, entry);
  }
  digits.write(tx, found);
  await tx.objectStore("meta").put(seq, "seq");
  await tx.done;
  window.dispatchEvent(new CustomEvent("gw:outbox"));
}

/** The rescue file of docs/sync.md §6, sealed to the server's key (§6.1) when the phone holds
 * it: the file leaves the app, with residents' names, ID numbers and phones. A phone that has no
 * key yet (not online since sealing came) writes the plain file: nothing typed is lost for want
 * of a key. Answers how many changes the file holds and whether it is sealed. */
export async function exportFile() {
  const device = await (await db()).get("meta", "device");
  const mutations = [];
  for (const e of await all()) mutations.push(await wire(e));
  const plain = JSON.stringify({device_id: device?.device_id, protocol: 1, mutations}, null, 1);
  const key = await rescueKey.held();
  const text = key ? JSON.stringify(await sealFile(plain, key), null, 1) : plain;
  const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, "");
  download(new Blob([text], {type: "application/json"}), `gridwalk-outbox-${stamp}${key ? ".sealed" : ""}.json`);
  // The last seq in the file: logout may wipe only what the file holds, not what was queued after.
  const lastSeq = mutations.reduce((top, m) => Math.max(top, m.seq), 0);
  await (await db()).put("meta", {at: new Date().toISOString(), count: mutations.length, last_seq: lastSeq}, "exported");
  return {count: mutations.length, sealed: Boolean(key)};
}

function download(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}
