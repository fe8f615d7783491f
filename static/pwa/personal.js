// What of a person the phone keeps in clear, and what it seals (issue 15 §6). In clear only what
// lists and offline rules read: the name (lists, search), sex and category (the house page),
// id_type, the permit's expiry, issue and last endorsement dates (the permits-due list works offline), the masked ID and phone, and
// the sync metadata. Everything else a row brings — ID number, phone, birth date, hukou address,
// region and parts, permit number, note, the masked forms the server sends some roles — is one
// sealed blob per person (`sealed`), opened only while the vault is unlocked. The clear list is
// what stays out, so a column the server adds later is sealed too.
import {maskId, maskPhone} from "./validation.js";
import {open, seal} from "./vault.js";

export const CLEAR = new Set(["id", "version", "changed_at", "deleted_at", "purged_at", "seq", "changed_by_id",
  "name", "sex", "category", "id_type", "permit_expiry", "permit_issued", "permit_endorsed_on"]);
// Personal data of others that rows bring but no screen of the app reads (a task's reporter phone,
// a unit's contact persons): not kept at all (PIPL art. 6, the minimum).
const UNUSED = {task: ["contact_phone"], unit: ["contacts"]};
/** A pulled row of another table without what the phone never reads. */
export function minimal(table, row) {
  if (!UNUSED[table]) return row;
  const out = {...row};
  for (const k of UNUSED[table]) delete out[k];
  return out;
}

/** Whether a value of this record type is personal (sealed at rest, in records and the outbox). */
export const isPersonal = (type, key) => type === "person" && !CLEAR.has(key);

function split(values) {
  const clear = {}, secret = {};
  for (const [k, v] of Object.entries(values)) (CLEAR.has(k) ? clear : secret)[k] = v;
  return {clear, secret};
}

// The masked forms lists show. A role that sees a number masked gets only `<field>_masked`
// (docs/sync.md): shown as it came, never taken for a number.
const idMask = (v) => (v.id_number ? maskId(v.id_number) : v.id_number_masked || "");
const phoneMask = (v) => (v.phone ? maskPhone(v.phone) : v.phone_masked || "");

/** A pulled person row → its stored form. */
export async function stored(row) {
  const {clear, secret} = split(row);
  return {...clear, id_masked: idMask(row), phone_masked: phoneMask(row), sealed: await seal(JSON.stringify(secret))};
}

/** What an edit on this phone changes in the stored record (the outbox entry's `local`): the
 * clear values as they are, the personal ones sealed as a `patch` (outbox.applyLocal keeps it
 * under the entry's seq until the server's row replaces it). */
export async function local(values, previous = null) {
  const {clear, secret} = split(values);
  if ("id_number" in values || "id_number_masked" in values) clear.id_masked = idMask(values);
  if ("phone" in values || "phone_masked" in values) clear.phone_masked = phoneMask(values);
  const before = previous?.patch ? JSON.parse(await open(previous.patch)) : {};
  const {patch: _old, ...kept} = previous || {};
  const all = {...before, ...secret};
  return {...kept, ...clear, ...(Object.keys(all).length ? {patch: await seal(JSON.stringify(all))} : {})};
}

/** The whole person, opened (needs the vault unlocked): the server's row with this phone's
 * queued edits over it, in the order they were made. */
export async function opened(p) {
  if (!p) return p;
  const {sealed, patches, ...out} = p;
  if (sealed) Object.assign(out, JSON.parse(await open(sealed)));
  for (const seq of Object.keys(patches || {}).sort((a, b) => Number(a) - Number(b))) Object.assign(out, JSON.parse(await open(patches[seq])));
  return out;
}

/** A person's numbers for the search index (digits.js): only what these values carry in full. */
export function numbers(id, values) {
  const row = {id};
  if ("id_number" in values || "id_number_masked" in values) row.n = values.id_number || null;
  if ("phone" in values || "phone_masked" in values) row.p = values.phone || null;
  return "n" in row || "p" in row ? row : null;
}
