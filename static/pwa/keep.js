// What a phone keeps: exactly what a fresh snapshot would hold (docs/sync.md §4 "What the phone
// keeps"). A snapshot holds live records, open residencies, open tasks, reviews not yet approved
// and visits of the last 93 days; incremental pulls also bring the rows that just left that set
// (a residency that ended, a task closed, a review approved) and never say when a visit ages
// out. So a row outside the set is deleted as it arrives, like a tombstone, visits that aged out
// are dropped once a day, and persons with no open residency left go once a round is complete —
// never after one page: a person's residency may come on a later page.

import {sent} from "./rows.js";

// A quarter's first day still counts on its last (tests/vectors/visit_window.json).
export const RECENT_VISIT_DAYS = 93;  // sync/pull.py RECENT_VISITS
const DAY_MS = 86400000;

const visitCutoff = (now) => new Date(now.getTime() - RECENT_VISIT_DAYS * DAY_MS).toISOString();

/** Whether a pulled row is one a snapshot would not hold (so the phone drops it). */
export function outside(table, row, now = new Date()) {
  if (row.deleted_at) return true;
  if (table === "residency") return Boolean(row.end_date);
  if (table === "task") return row.status !== "open";
  if (table === "review") return row.status === "approved";
  if (table === "visit") return Boolean(row.visited_at) && Date.parse(row.visited_at) < Date.parse(visitCutoff(now));
  return false;
}

/** Ids that queued outbox entries name: the phone's own state, kept until the server answers. */
export async function queuedIds(tx) {
  const ids = new Set();
  for (const e of await tx.objectStore("outbox").getAll()) ids.add(e.record_id);
  return ids;
}

/** Visits older than the window, once a day (they change nothing on the server as they age). */
export async function ageVisits(tx, queued, now = new Date()) {
  const meta = tx.objectStore("meta");
  const today = now.toISOString().slice(0, 10);
  if ((await meta.get("visits_aged_on")) === today) return 0;
  const cutoff = visitCutoff(now);
  const store = tx.objectStore("visit");
  let dropped = 0;
  for (const v of await store.getAll()) {
    if (v.visited_at && v.visited_at < cutoff && !queued.has(v.id)) { sent(store.delete(v.id)); dropped += 1; }
  }
  await meta.put(today, "visits_aged_on");
  return dropped;
}

/** End of a complete round: persons living in none of the phone's houses leave. Answers how
 * many left (`dropped`: their numbers must leave digits.js's journal too) and the open
 * residencies whose person is missing (`orphans`: a store damaged by an older app, see sync.js). */
export async function endOfRound(tx, queued) {
  const residencies = (await tx.objectStore("residency").getAll()).filter((r) => !r.end_date);
  const housed = new Set(residencies.map((r) => r.person_id));
  const people = tx.objectStore("person");
  const present = new Set();
  let dropped = 0;
  for (const id of await people.getAllKeys()) {
    if (housed.has(id) || queued.has(id)) present.add(id);
    else { sent(people.delete(id)); dropped += 1; }
  }
  return {dropped, orphans: residencies.filter((r) => !present.has(r.person_id)).length};
}
