// Conflict notices: a change the registry could not take as typed (docs/sync.md §3 `conflict`)
// waits for the centre. The phone keeps a notice per conflict (meta "conflicts"): whose record
// (name, address), what it sent per field, what the registry holds (told on the next pull's
// first page: sync/conflict_news.py), and later the centre's decision, shown once, after which
// the notice goes. A person's values stay sealed in the notice as in the outbox.
import {db} from "./db.js";
import {subject} from "./describe.js";
import {sealValues} from "./outbox.js";
import {opened} from "./personal.js";
import {maskId, maskPhone} from "./validation.js";

export const KEY = "conflicts";

/** Before the outcomes' transaction (it must wait on nothing else): what each conflict needs —
 * its notice, and the local record as it was before the refused change (registry's state at
 * the version the change started from; a newer version, if any, comes with the pull). */
export async function prepare(outcomes) {
  const d = await db();
  const out = new Map();
  for (const o of outcomes) {
    const status = o.status === "already_applied" ? (o.first_status || "applied") : o.status;
    if (status !== "conflict") continue;
    const e = await d.get("outbox", o.seq);
    if (!e || e.id !== o.id) continue;
    const about = await subject(e.type, e.record_id, e.fields);
    const notice = {conflict_id: o.conflict_id, mutation_id: e.id, type: e.type, op: e.op, record_id: e.record_id,
      at: e.at, fields: e.fields, who: about.who, address: about.address, house_id: about.houseId, registry: null,
      decision: null, told_at: new Date().toISOString()};
    out.set(o.seq, {notice, before: e.op === "update" ? await undone(d, e) : null});
  }
  return out;
}

/** The stored record without this change: its sealed patch dropped, its clear values back to
 * `base`, and the masks and sex read again from what is left. */
async function undone(d, e) {
  const row = await d.get(e.type, e.record_id);
  if (!row) return null;
  const back = {...row};
  for (const k of Object.keys(e.fields || {})) if (k in (e.base || {}) && !(e.base[k]?.$enc)) back[k] = e.base[k];
  if (e.type === "person") {
    const patches = {...(row.patches || {})};
    delete patches[e.seq];
    back.patches = patches;
    const full = await opened(back).catch(() => null);
    if (full) {
      back.id_masked = full.id_number ? maskId(full.id_number) : full.id_number_masked || "";
      back.phone_masked = full.phone ? maskPhone(full.phone) : full.phone_masked || "";
      if (full.sex) back.sex = full.sex;
    }
  }
  return {version: row.version, row: back};
}

/** Inside the outcomes' transaction: the notice is kept and the refused change undone. */
export async function record(tx, prepared) {
  const meta = tx.objectStore("meta");
  const notices = (await meta.get(KEY)) || [];
  for (const {notice, before} of prepared.values()) {
    if (!notices.some((n) => n.conflict_id === notice.conflict_id)) notices.push(notice);
    if (!before) continue;
    const store = tx.objectStore(notice.type);
    const now = await store.get(notice.record_id);
    if (now && now.version === before.version) await store.put(before.row);
  }
  await meta.put(notices, KEY);
  return prepared.size;
}

/** Before a page's transaction: the server's list with a person's values sealed. */
export async function prepareNews(news) {
  if (!news) return null;
  const out = [];
  for (const item of news) {
    const registry = {}, sent = {}, decided = {};
    for (const [k, v] of Object.entries(item.fields || {})) {
      registry[k] = v.registry;
      sent[k] = v.device;
    }
    for (const [k, v] of Object.entries(item.decision?.fields || {})) if ("value" in v) decided[k] = v.value;
    const sealed = async (values) => sealValues(item.record_type, values);
    out.push({...item, registry: await sealed(registry), device: await sealed(sent), decided: await sealed(decided),
      masked: Object.entries(item.fields || {}).filter(([, v]) => v.masked).map(([k]) => k)});
  }
  return out;
}

/** Inside the first page's transaction: notices learn the registry's values and decisions; a
 * notice the server no longer names (decided long ago) goes, as does one whose decision was shown.
 * Answers how many decisions are new. */
export async function reconcile(tx, news) {
  if (!news) return 0;
  const meta = tx.objectStore("meta");
  const byId = new Map(news.map((n) => [n.id, n]));
  let decided = 0;
  const kept = [];
  for (const notice of (await meta.get(KEY)) || []) {
    const item = byId.get(notice.conflict_id);
    if (!item || notice.shown_at) continue;
    const next = {...notice, kind: item.kind, registry: Object.keys(item.registry).length ? item.registry : notice.registry,
      masked: item.masked};
    if (item.resolved_at && !notice.decision) {
      decided += 1;
      next.decision = {action: item.decision?.action || null, at: item.resolved_at,
        fields: Object.fromEntries(Object.entries(item.decision?.fields || {}).map(([k, v]) =>
          [k, {choice: v.choice, ...(k in item.decided ? {value: item.decided[k]} : {})}]))};
    }
    kept.push(next);
  }
  await meta.put(kept, KEY);
  return decided;
}

/** The decisions on screen now are shown once: the next sync lets them go. */
export async function markShown(ids) {
  if (!ids.length) return;
  const tx = (await db()).transaction("meta", "readwrite");
  const notices = (await tx.store.get(KEY)) || [];
  const at = new Date().toISOString();
  await tx.store.put(notices.map((n) => (ids.includes(n.conflict_id) && n.decision ? {...n, shown_at: n.shown_at || at} : n)), KEY);
  await tx.done;
}

export async function all() { return (await (await db()).get("meta", KEY)) || []; }
