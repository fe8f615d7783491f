// The ID and phone numbers offline search needs ("the last 4–6 digits"), in memory while the
// phone is unlocked. Persons keep them sealed one blob each (personal.js), and opening 50,000
// blobs takes seconds (bench/fieldapp_search.py: 3.8 s in headless Chromium, 8 s at 4× CPU
// throttle), so the numbers are also kept as a sealed journal (store `digits`): a snapshot of
// every person's numbers and the changes written since. Each change is sealed before, and
// added in the same transaction as, the person rows it describes, so a tab closed half-way
// leaves both or neither. At unlock one snapshot and a few changes are opened (one decryption
// of a few MB); on lock the memory copy is dropped. After a sync the journal is folded into a
// new snapshot, and persons no longer on the phone leave it.
//
// Minimum data (PIPL art. 6): a person who leaves the phone (evicted with a cell, a tombstone,
// no open residency left at the end of a round, a merged or refused copy) takes their numbers
// with them. The transaction that deletes them marks the journal (`gone`, meta `digits_gone`),
// and the sync that ran it folds at once, not after FOLD_AFTER records; the mark outlives a tab
// closed or a phone locked in between, and the next sync folds then. A snapshot starts the
// journal again with the tables (`restart`).
import {db, DIGITS} from "./db.js";
import {newId} from "./ids.js";
import {opened} from "./personal.js";
import {open, seal, unlocked} from "./vault.js";

const FOLD_AFTER = 20;  // journal records before a sync folds them into one snapshot
const GONE = "digits_gone";  // meta: persons left the phone since the last fold (a fresh value each time)
let numbers = null;  // Map person id → [ID number | null, phone | null]
let loading = null;
let early = [];  // changes this tab committed while a load was reading

// Rows: a change {id, n?, p?} (an absent key leaves that number as it was), a snapshot's
// [id, n, p], or {alias: [from, to]}; in memory only, {gone: id} (a fold dropped it meanwhile).
function take(map, rows) {
  for (const r of rows) {
    if (Array.isArray(r)) map.set(r[0], [r[1], r[2]]);
    else if (r.gone) map.delete(r.gone);
    // An alias record (written by apps before the merged copy was dropped, sync.js redirect).
    else if (r.alias) { if (map.has(r.alias[0])) map.set(r.alias[1], map.get(r.alias[0])); } else {
      const [n, p] = map.get(r.id) || [null, null];
      map.set(r.id, ["n" in r ? r.n : n, "p" in r ? r.p : p]);
    }
  }
}

function remember(rows) {
  if (numbers) take(numbers, rows);
  else if (loading) early.push(rows);
}

/** Seal changed numbers ([{id, n?, p?}], personal.numbers) before a write; pass the result to
 * `write` inside the transaction that writes those persons (its scope must include DIGITS). */
export async function change(rows) {
  const list = rows.filter(Boolean);
  return list.length ? {rows: list, record: {box: await seal(JSON.stringify(list))}} : null;
}

export function write(tx, prepared) {
  if (!prepared) return;
  tx.objectStore(DIGITS).add(prepared.record);
  tx.done.then(() => remember(prepared.rows), () => {});
}

/** Persons left the phone in this transaction (its scope must include "meta"): the next
 * `foldGone` takes their numbers out of the journal. */
export function gone(tx) {
  tx.objectStore("meta").put(newId(), GONE);
}

/** A snapshot clears every table in this transaction (its scope must include DIGITS and "meta"):
 * the journal starts again with them, from what `write` adds to it next (the snapshot's persons
 * and the queued ones put back on top). The memory copy is opened again from it. */
export function restart(tx) {
  tx.objectStore(DIGITS).clear();
  tx.objectStore("meta").delete(GONE);
  tx.done.then(drop, () => {});
}

/** The journal as stored: the last snapshot, then every change after what it folded. */
async function read() {
  const tx = (await db()).transaction(DIGITS);
  const [keys, records] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
  await tx.done;
  let last = -1;
  for (let i = records.length - 1; i >= 0 && last < 0; i--) if (records[i].snapshot) last = i;
  const map = new Map();
  if (last >= 0) take(map, JSON.parse(await open(records[last].box)));
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r.snapshot || (last >= 0 && keys[i] <= records[last].upTo)) continue;
    take(map, r.alias ? [r] : JSON.parse(await open(r.box)));
  }
  return {map, lastKey: keys.length ? keys[keys.length - 1] : 0};
}

/** Numbers from the persons' own sealed blobs (the slow way: reseal.js, and persons the
 * journal does not know). */
export async function rebuildFor(people) {
  const map = new Map();
  take(map, await Promise.all(people.map(async (p) => {
    // A blob sealed under a key this phone no longer has (a new data key): no numbers to search.
    const full = await opened(p).catch(() => ({}));
    return {id: p.id, n: full.id_number || null, p: full.phone || null};
  })));
  return map;
}

/** The journal record holding all of `map`, covering every key up to `upTo`. */
export async function sealSnapshot(map, upTo = 0) {
  return {snapshot: true, upTo, box: await seal(JSON.stringify([...map].map(([id, [n, p]]) => [id, n, p])))};
}

/** After a load, in the background: persons the journal does not know (written by something
 * that bypassed it) get their numbers from their own blobs, journalled for next time. */
async function complete(map) {
  const d = await db();
  const missing = (await d.getAllKeys("person")).filter((id) => !map.has(id));
  if (!missing.length || numbers !== map) return;
  const found = await rebuildFor((await Promise.all(missing.map((id) => d.get("person", id)))).filter(Boolean));
  const prepared = await change([...found].map(([id, [n, p]]) => ({id, n, p})));
  const tx = d.transaction(DIGITS, "readwrite");
  write(tx, prepared);
  await tx.done;
}

/** The numbers, opened at unlock (null while locked). */
export function ready() {
  if (!unlocked()) return Promise.resolve(null);
  if (numbers) return Promise.resolve(numbers);
  if (!loading) {
    const mine = read().then(({map}) => {
      if (loading !== mine) return null;  // locked meanwhile: keep nothing
      for (const rows of early) take(map, rows);
      early = [];
      numbers = map;
      loading = null;
      complete(map).catch(() => {});
      return map;
    });
    loading = mine;
    mine.catch(() => { if (loading === mine) loading = null; });
  }
  return loading;
}

/** Fold the journal into one snapshot once it has grown (after a sync), or now (`force`).
 * Persons no longer on the phone leave it, and the memory copy. */
export async function fold({force = false} = {}) {
  const d = await db();
  if (!unlocked() || (!force && (await d.count(DIGITS)) <= FOLD_AFTER)) return;
  const due = await d.get("meta", GONE);
  const {map, lastKey} = await read();
  const people = new Set(await d.getAllKeys("person"));
  const left = [...map.keys()].filter((id) => !people.has(id));
  for (const id of left) map.delete(id);
  const record = await sealSnapshot(map, lastKey);
  const tx = d.transaction([DIGITS, "meta"], "readwrite");
  tx.objectStore(DIGITS).add(record);
  if (lastKey) tx.objectStore(DIGITS).delete(IDBKeyRange.upperBound(lastKey));
  // Persons who left after `due` was read may still be in this snapshot: their mark stays.
  const meta = tx.objectStore("meta");
  if (due !== undefined && (await meta.get(GONE)) === due) await meta.delete(GONE);
  await tx.done;
  if (left.length) remember(left.map((id) => ({gone: id})));
}

/** Fold now if persons left the phone since the last fold (`gone`): a sync calls it at its end. */
export async function foldGone() {
  if (unlocked() && (await (await db()).get("meta", GONE)) !== undefined) await fold({force: true});
}

/** A new data key (login could not recover the old one): the journal cannot be opened any more. */
export async function reset() {
  drop();
  await (await db()).clear(DIGITS);
}

export function drop() {
  numbers = null;
  loading = null;
  early = [];
}

if (typeof window !== "undefined") {
  window.addEventListener("gw:locked", drop);
  window.addEventListener("gw:synced", (ev) => { if (ev.detail?.ok && ev.detail.pulled) fold().catch(() => {}); });
}
