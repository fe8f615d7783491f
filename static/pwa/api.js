// HTTP calls to the sync API (docs/sync.md), with the device token.
import {getMeta} from "./db.js";
import {open, unlocked} from "./vault.js";

// 2: compact pages and answers, no echo, pushes compressed (docs/sync.md §7).
export const PROTOCOL = 2;
// 0.5: personal fields sealed at rest (issue 15); 0.6: keeps a snapshot's rows whatever the
// pages, reads the round's conflicts (issue 16); 0.7: protocol 2 (issue 17); 0.8: the task
// store, formerly `tip` (database version 4, issue 20); 0.9: the last push carries the pull.
export const APP_VERSION = "0.10.0";

// Rows a page may carry (docs/sync.md §4): the most, so that a first sync's references (a
// residency's person) fall in the same compressed answer as what they name (BENCHMARKS.md, figure 10).
const PULL_LIMIT = 10000;

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `HTTP ${status}`);
    Object.assign(this, {status, code: body?.code || `http_${status}`, body});
  }
}

/** A JSON body gzip-compressed where the browser can (CompressionStream): a push of 500
 * changes is a fifth of its size; the server expands it under a cap (413 past it). */
async function packed(body, headers) {
  const text = JSON.stringify(body);
  if (typeof CompressionStream === "undefined" || text.length < 1024) return text;
  headers["Content-Encoding"] = "gzip";
  return new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
}

async function call(method, path, body, token, signal, compress = false) {
  const headers = {Accept: "application/json"};
  if (body) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const sent = !body ? undefined : compress ? await packed(body, headers) : JSON.stringify(body);
  const response = await fetch(path, {method, headers, body: sent, cache: "no-store", signal});
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** A new token; `replaces` is this phone's current one (same user), which the server ends with it. */
export function register(username, password, replaces = null) {
  const label = (navigator.userAgentData?.platform || navigator.platform || "phone") + " / " + navigator.userAgent.slice(0, 60);
  return call("POST", "/api/devices", {username, password, label: label.slice(0, 100), app_version: APP_VERSION,
    ...(replaces ? {replaces} : {})});
}

/** The server's key for sealing the rescue file (docs/sync.md §6.1): public, no token. */
export function rescueKey() {
  return call("GET", "/api/rescue-key");
}

/** This phone's token. It is kept sealed under the data key — a copy of the phone's storage must
 * not be a live login to the server — so only an unlocked phone calls the API with it. A string
 * was stored before issue 15 (reseal.js seals it at the first unlock). */
export async function token(device = null) {
  const tok = (device || (await getMeta("device")))?.token;
  if (!tok || typeof tok === "string") return tok || null;
  return unlocked() ? open(tok).catch(() => null) : null;
}

/** The outcomes name only each mutation's seq (and what the phone does not know): the rest is
 * filled in from the batch sent, so the answer reads as protocol 1's. `pullFrom` (a cursor, or
 * null for a snapshot): the pull that follows comes in the same round trip (docs/sync.md §3);
 * `answer.pull` is then its first page, absent when the server gave none (a cursor it refuses):
 * the phone pulls as usual.
 * @param {any[]} mutations @param {number} pending @param {{pullFrom?: string | null}} [options] */
export async function push(mutations, pending, {pullFrom} = {}) {
  const body = {protocol: PROTOCOL, app_version: APP_VERSION, clock: new Date().toISOString(), pending, mutations};
  if (pullFrom !== undefined) body.pull = {cursor: pullFrom, limit: PULL_LIMIT};
  const answer = await call("POST", "/api/sync/push", body, await token(), undefined, true);
  const bySeq = new Map(mutations.map((m) => [m.seq, m]));
  answer.outcomes = answer.outcomes.map((o) => {
    const m = bySeq.get(o.seq);
    return {id: m?.id, type: m?.type, record_id: m?.record_id, ...o};
  });
  if (answer.pull) answer.pull = rows(answer.pull);
  return answer;
}

/** A page of changes; each table comes column by column ({name: [values]}): made rows here. */
export async function pull(cursor) {
  const q = new URLSearchParams({protocol: String(PROTOCOL), limit: String(PULL_LIMIT)});
  if (cursor) q.set("cursor", cursor);
  return rows(await call("GET", `/api/sync/pull?${q}`, null, await token()));
}

function rows(page) {
  page.changes = Object.fromEntries(Object.entries(page.changes || {}).map(([table, columns]) => {
    const names = Object.keys(columns);
    const count = names.length ? columns[names[0]].length : 0;
    return [table, Array.from({length: count}, (_, i) => Object.fromEntries(names.map((c) => [c, columns[c][i]])))];
  }));
  return page;
}

/** Ends this phone's token on the server as it logs out. Best effort: offline (or after 5 s)
 * the token is wiped with the rest of the phone and the committee can still revoke it. */
export async function revokeSelf() {
  const tok = await token();
  return tok ? revokeToken(tok) : null;
}

/** Ends a token this phone holds or just got (any device may end its own), best effort. */
export async function revokeToken(tok) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 5000);
  try {
    return await call("POST", "/api/devices/self/revoke", null, tok, abort.signal);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
