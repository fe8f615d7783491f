// Push the outbox, then pull, as docs/sync.md says. One tab at a time (Web Locks).
import * as api from "./api.js";
import {db, DIGITS, getMeta, HOUSE_CHILDREN, setMeta, TABLES} from "./db.js";
import * as digits from "./digits.js";
import {applyLocal, wire} from "./outbox.js";
import {Rows, sent} from "./rows.js";
import {ageVisits, endOfRound, outside, queuedIds} from "./keep.js";
import {isPersonal, local, minimal, numbers, stored} from "./personal.js";
import {open, seal, unlocked} from "./vault.js";
import * as rescueKey from "./rescuekey.js";

const BATCH = 500;
const DONE = new Set(["applied", "merged", "conflict"]);
let running = null;

const emit = (name, detail) => window.dispatchEvent(new CustomEvent(name, {detail}));

/** Sync unless another tab (or this one) is already at it; resolves to the result. A locked
 * phone waits: pushing opens the queued personal values, pulling seals the new ones. */
export function sync(reason = "manual") {
  if (!unlocked()) return Promise.resolve({skipped: "locked"});
  if (running) return running;
  const work = async () => {
    const device = await getMeta("device");
    if (!device?.token || device.revoked || device.expired) return {skipped: "no_device"};
    emit("gw:sync-start", {reason});
    const result = {at: new Date().toISOString(), reason, ok: true, conflicts: 0, rejected: 0, decided: 0};
    try {
      const carried = {};
      result.pushed = await push(result, carried);
      result.pulled = await pull(result, carried);
    } catch (error) {
      Object.assign(result, {ok: false, error: error.code || "network", status: error.status || 0});
      if (error.code === "device_revoked" || error.code === "user_inactive") {
        await setMeta("device", {...device, revoked: true});
        await forgetRegistry();
        // Route again at once: the revoked screen (export, then wipe) replaces whatever is shown.
        window.dispatchEvent(new HashChangeEvent("hashchange"));
      } else if (error.code === "device_expired") {
        // 30 days without a sync ended the token: log in again online. Not a revocation: the
        // outbox stays and the new login's token pushes it.
        await setMeta("device", {...device, expired: true});
        window.dispatchEvent(new HashChangeEvent("hashchange"));
      }
    }
    // The key the rescue file is sealed to, while the server still answers (a revoked phone's
    // too: the key is public): at most once a day, after the sync's own requests.
    if (result.ok || result.status) await rescueKey.refresh().catch(() => {});
    // Persons that left the phone in this sync (or one cut short before) take their numbers
    // out of the offline-search journal now, not once it has grown (digits.js).
    await digits.foldGone().catch(() => {});
    await setMeta("last_sync", result);
    emit("gw:synced", result);
    return result;
  };
  const locked = navigator.locks
    ? navigator.locks.request("gridwalk-sync", {ifAvailable: true}, (lock) => (lock ? work() : {skipped: "busy"}))
    : work();
  running = locked.finally(() => { running = null; });
  return running;
}

/** A phone the centre revoked, or whose user no longer works here, holds the registry no longer:
 * every pulled record, the offline-search journal, the pull's cursor and the cells' map tiles go
 * as soon as it learns so, without waiting for a tap (a phone handed in or lost may never get
 * one). The outbox and what exporting it needs (the device, the data key, the sequence, and the
 * server's key the file is sealed to: meta "rescue_key") stay: what was typed is handed over as a
 * file before the wipe (views/session.js), and nothing else reads the tables once the revoked
 * screen is all the app shows. */
async function forgetRegistry() {
  const tx = (await db()).transaction([...TABLES, DIGITS, "meta"], "readwrite");
  for (const table of TABLES) tx.objectStore(table).clear();
  digits.restart(tx);
  tx.objectStore("meta").delete("cursor");
  tx.objectStore("meta").delete("tiles");
  await tx.done;
  await (await import("./tiles.js")).wipe();
}

/** Run `fn` while no sync runs in any tab (logout's wipe): waits for one under way to end. */
export function exclusive(fn) {
  return navigator.locks ? navigator.locks.request("gridwalk-sync", () => fn()) : fn();
}

/** Push the outbox in batches. The last batch carries the pull (docs/sync.md §3): its first
 * page, when the server gives one, goes to `carried` for pull() to apply after the outcomes. */
async function push(told, carried) {
  let sent = 0;
  for (;;) {
    const d = await db();
    const waiting = (await d.getAll("outbox")).filter((e) => e.state === "pending");
    if (!waiting.length) return sent;
    const batch = [];
    for (const e of waiting.slice(0, BATCH)) batch.push(await wire(e));
    const last = waiting.length <= BATCH;
    const cursor = last ? (await getMeta("cursor")) || null : undefined;
    const answer = await api.push(batch, waiting.length, {pullFrom: cursor});
    await outcomes(answer.outcomes, told);
    sent += batch.length;
    if (last && answer.pull) Object.assign(carried, {page: answer.pull, cursor});
  }
}

/** Apply a push's outcomes; `told` counts what the coordinator is told after the sync. */
async function outcomes(list, told = {}) {
  // Conflicts are rare: their notices' code (and the words it needs) loads only for one.
  const notices = list.some((o) => (o.first_status || o.status) === "conflict") ? await import("./notices.js") : null;
  const conflicts = notices ? await notices.prepare(list) : new Map();
  const learnt = await prepareLearnt(list);
  // A person merged into another: its local copy goes, and the numbers it was found by with it
  // (the canonical person keeps its own, from the pull; not the copy's, which may differ).
  const merged = list.filter((o) => o.type === "person" && o.canonical_id && o.canonical_id !== o.record_id)
    .map((o) => ({id: o.record_id, n: null, p: null}));
  let left = merged.length > 0;  // persons whose local copy goes: their numbers leave the journal too
  const found = await digits.change([...[...learnt.values()].map((x) => x.numbers), ...merged]);
  const d = await db();
  const tx = d.transaction(["outbox", "meta", DIGITS, ...TABLES], "readwrite");
  const box = tx.objectStore("outbox");
  // Every request goes out before any answer is awaited (rows.js).
  let entries = await Promise.all(list.map((o) => box.get(o.seq)));
  const rows = new Rows(tx);
  list.forEach((o, i) => { if (learnt.has(o.seq) && entries[i]) rows.read(entries[i].type, entries[i].record_id); });
  for (const [i, o] of list.entries()) {
    const e = entries[i];
    if (!e || e.id !== o.id) continue;
    // Sent before and its answer lost (a closed tab, a dropped connection): what happened the
    // first time is what counts — a rejection must still reach the coordinator (docs/sync.md §2).
    const status = o.status === "already_applied" ? (o.first_status || "applied") : o.status;
    if (DONE.has(status)) {
      sent(box.delete(o.seq));
      if (learnt.has(o.seq)) {
        await learn(rows, e, learnt.get(o.seq));
        if (learnt.get(o.seq).typed !== undefined) left = true;  // the typed number leaves the journal
      }
      // The registry does not have what this phone created: the centre has its values, and
      // the local copy goes (docs/sync.md §3), so the store stays what a snapshot would hold.
      if (status === "conflict" && e.op === "create") {
        rows.remove(e.type, e.record_id);
        if (e.type === "person") left = true;
      }
      if (o.canonical_id && o.canonical_id !== o.record_id) {
        await redirect(tx, o.type, o.record_id, o.canonical_id);
        // It rewrote queued entries and rows: read the rest again, after it (rare).
        rows.forget();
        entries = [...entries.slice(0, i + 1), ...await Promise.all(list.slice(i + 1).map((x) => box.get(x.seq)))];
      }
    } else {
      if (status === "rejected" && e.state !== "rejected") told.rejected = (told.rejected || 0) + 1;
      sent(box.put({...e, state: status, errors: o.errors || [], blocked_by: o.blocked_by || null}));
    }
  }
  if (notices) told.conflicts = (told.conflicts || 0) + await notices.record(tx, conflicts);
  digits.write(tx, found);
  if (left) digits.gone(tx);
  await tx.done;
}

/** Protocol 2's pull sends none of this phone's own writes back as applied: the answer's
 * version, and what the server set beside the typed values (`set`: a person's sex and birth date
 * from the ID number, defaults, a value written otherwise than typed), go into the local record.
 * A person's personal ones are sealed here, before the transaction (it waits on IndexedDB only). */
async function prepareLearnt(list) {
  const out = new Map();
  for (const o of list) {
    const status = o.status === "already_applied" ? (o.first_status || "applied") : o.status;
    if (status !== "applied" || o.version == null) continue;
    const set = o.set || {};
    if (o.type !== "person") {
      out.set(o.seq, {version: o.version, values: minimal(o.type, set), numbers: null});
      continue;
    }
    // A `null` is a value typed here that this role does not hold (a grid lead's new phone
    // number for a resident, told back as its mask): it leaves the record, the edit's own
    // sealed patch and the search journal, as a pull would have it (docs/sync.md §3 `set`).
    const erased = Object.keys(set).filter((k) => set[k] === null && isPersonal("person", k));
    const kept = Object.fromEntries(Object.entries(set).filter(([k]) => !erased.includes(k)));
    out.set(o.seq, {version: o.version, values: await local(kept), numbers: numbers(o.record_id, set),
      typed: erased.length ? await withoutTyped(o.seq, erased) : undefined});
  }
  return out;
}

/** The edit's own sealed patch less `erased` (null: nothing left of it). */
async function withoutTyped(seq, erased) {
  const e = await (await db()).get("outbox", seq);
  if (!e?.local?.patch) return null;
  const values = JSON.parse(await open(e.local.patch));
  for (const k of erased) delete values[k];
  return Object.keys(values).length ? seal(JSON.stringify(values)) : null;
}

async function learn(rows, e, {version, values, typed}) {
  const row = await rows.read(e.type, e.record_id);
  if (!row || (row.version || 0) > version) return;  // gone, or a newer one came meanwhile
  const {patch, ...clear} = values;
  const next = {...row, ...clear, version};
  // Sealed values as a patch just after the change's own (personal.opened applies them in order).
  if (patch) next.patches = {...row.patches, [`${e.seq}.5`]: patch};
  if (typed !== undefined) {
    next.patches = {...next.patches};
    if (typed) next.patches[e.seq] = typed;
    else delete next.patches[e.seq];
  }
  rows.put(e.type, next);
}

/** A duplicate merged on the server: use its id here too, in queued mutations and what names
 * it; the local copy goes (docs/sync.md §3). Never put under the canonical id: the registry's
 * record is the one held here, or the pull brings it; the copy would stand for it with this
 * phone's values (a residency ended meanwhile current again, another start date, version 0),
 * and no pull sends a record again that has not changed since. */
async function redirect(tx, type, from, to) {
  await tx.objectStore(type).delete(from);
  const box = tx.objectStore("outbox");
  for (const e of await box.getAll()) {
    const swap = (obj) => Object.fromEntries(Object.entries(obj || {}).map(([k, v]) => [k, v === from ? to : v]));
    await box.put({...e, record_id: e.record_id === from ? to : e.record_id, fields: swap(e.fields), local: swap(e.local)});
  }
  if (type === "person" || type === "house") {
    const residency = tx.objectStore("residency");
    for (const r of await residency.index(`${type}_id`).getAll(from)) await residency.put({...r, [`${type}_id`]: to});
  }
}

// A store whose open residencies name persons it lacks (an app before issue 16 dropped persons
// after each page, so a first sync over several pages lost most of them) is pulled again from a
// snapshot, at most once a day so a registry that sends such a row cannot make every sync a first one.
const REPAIR_EVERY_MS = 86400000;

async function pull(told = {}, carried = {}) {
  let cursor = carried.page ? carried.cursor : await getMeta("cursor");
  let count = 0;
  for (;;) {
    let page;
    try {
      page = carried.page || await api.pull(cursor);
      carried.page = null;
    } catch (error) {
      if (error.code !== "cursor_invalid" || !cursor) throw error;
      cursor = null;
      continue;
    }
    const orphans = await applyPage(page, {fresh: !cursor, told});
    cursor = page.cursor;
    count += page.count;
    if (page.more) continue;
    if (!orphans || !(await repairDue())) return count;
    await setMeta("repaired_at", new Date().toISOString());
    cursor = null;
  }
}

async function repairDue() {
  const last = await getMeta("repaired_at");
  return !last || Date.now() - Date.parse(last) > REPAIR_EVERY_MS;
}

/** Numbers of persons this page brings ([{id, n, p}] for digits.js), then those of queued edits,
 * which the outbox puts back over the page's rows: of the page's persons, or of every queued
 * person when the journal starts again (`restart`, a snapshot's first page). */
async function pageNumbers(rows, restart = false) {
  const out = rows.filter((r) => !r.deleted_at).map((r) => ({id: r.id, n: r.id_number || null, p: r.phone || null}));
  if (!out.length && !restart) return out;
  const ids = new Set(out.map((r) => r.id));
  for (const e of await (await db()).getAll("outbox")) {
    if (e.type !== "person" || !(restart || ids.has(e.record_id))) continue;
    const row = {id: e.record_id};
    for (const [k, key] of [["id_number", "n"], ["phone", "p"]]) {
      if (k in (e.fields || {})) row[key] = e.fields[k]?.$enc ? await open(e.fields[k].$enc) : e.fields[k];
    }
    out.push(row);
  }
  return out;
}

/** Store one page; answers, at the end of a round, how many open residencies lack their person.
 * `fresh`: the first page of a snapshot asked for without a cursor (a first sync, or the server
 * refused the cursor): the store starts again from it, the outbox's own changes put back on top,
 * so nothing the snapshot no longer holds (a record deleted meanwhile) stays behind. */
async function applyPage(page, {fresh = false, told = /** @type {Record<string, number>} */ ({})} = {}) {
  // Seal personal fields before the transaction: it must only wait on IndexedDB.
  // The user's conflicts (first page of a round): read only when there is something to match.
  const notices = page.conflicts && (page.conflicts.length || (await getMeta("conflicts"))?.length)
    ? await import("./notices.js") : null;
  const news = notices ? await notices.prepareNews(page.conflicts) : null;
  const rows = page.changes.person || [];
  const persons = await Promise.all(rows.map((p) => (p.deleted_at ? p : stored(p))));
  const restart = fresh && page.snapshot;
  const found = await digits.change(await pageNumbers(rows, restart));
  const changes = Object.fromEntries(Object.entries(page.changes).map(([t, list]) => [t, list.map((r) => minimal(t, r))]));
  changes.person = persons;
  const d = await db();
  const tx = d.transaction([...TABLES, "outbox", "meta", DIGITS], "readwrite");
  const queued = await queuedIds(tx);
  if (restart) {
    for (const table of TABLES) await tx.objectStore(table).clear();
    digits.restart(tx);  // the numbers of persons not in the snapshot go with their rows
  }
  const now = new Date();
  // Writes are sent, not awaited one by one (rows.js): IndexedDB runs them in order.
  for (const table of TABLES) {
    const store = tx.objectStore(table);
    for (const row of changes[table] || []) {
      // A row a snapshot would not hold (keep.js) goes as a tombstone does, unless this phone
      // still has a change of it queued.
      sent(row.deleted_at || (outside(table, row, now) && !queued.has(row.id)) ? store.delete(row.id) : store.put(row));
    }
  }
  // Persons leaving the phone (tombstones, evictions, the end of a round): their numbers go too.
  let left = rows.some((r) => r.deleted_at);
  const evicted = Object.entries(page.evict || {}).flatMap(([table, ids]) => ids.map((id) => [table, id]));
  if (evicted.some(([table]) => table === "person")) left = true;
  for (const [table, id] of evicted) sent(tx.objectStore(table).delete(id));
  const children = evicted.filter(([table]) => table === "house").flatMap(([, id]) => HOUSE_CHILDREN.map((child) => [child, id]));
  const keys = await Promise.all(children.map(([child, id]) => tx.objectStore(child).index("house_id").getAllKeys(id)));
  children.forEach(([child], i) => { for (const key of keys[i]) sent(tx.objectStore(child).delete(key)); });
  // What is still queued goes back on top. An entry at or below last_applied_seq reached the
  // server though its answer was lost: it stays, and the next push learns its outcome
  // (dropping it here would hide a rejection or a conflict, docs/sync.md §4).
  const waiting = await tx.objectStore("outbox").getAll();
  const records = new Rows(tx);  // reads from here on see the page's writes
  for (const e of waiting) records.read(e.type, e.record_id);
  for (const e of waiting) await applyLocal(records, e);
  let orphans = 0;
  if (!page.more) {
    // Only once the round is complete: a person's residency may come on a later page.
    const round = await endOfRound(tx, queued);
    orphans = round.orphans;
    if (round.dropped) left = true;
    await ageVisits(tx, queued, now);
  }
  if (notices) told.decided = (told.decided || 0) + await notices.reconcile(tx, news);
  digits.write(tx, found);
  if (left) digits.gone(tx);
  tx.objectStore("meta").put(page.cursor, "cursor");
  await tx.done;
  return orphans;
}

/** When to sync: now, on coming online, on returning to the app, every few minutes, by Background Sync. */
export function schedule(minutes = 5) {
  const soon = (reason) => () => { if (navigator.onLine) sync(reason); };
  window.addEventListener("online", soon("online"));
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") soon("visible")(); });
  setInterval(soon("timer"), minutes * 60 * 1000);
  navigator.serviceWorker?.addEventListener("message", (ev) => { if (ev.data?.type === "sync") soon("background")(); });
  window.addEventListener("gw:outbox", async () => {
    const reg = await navigator.serviceWorker?.ready;
    if (reg?.sync) reg.sync.register("gridwalk-sync").catch(() => {});
    soon("saved")();
  });
  soon("open")();
}
