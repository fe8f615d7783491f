// HTTP calls to the sync API (docs/sync.md), with the device token.
import {getMeta} from "./db.js";
import {open, unlocked} from "./vault.js";

export const PROTOCOL = 1;
// 0.5: personal fields sealed at rest (issue 15); 0.6: keeps a snapshot's rows whatever the
// pages, reads the round's conflicts (issue 16).
export const APP_VERSION = "0.6.0";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `HTTP ${status}`);
    Object.assign(this, {status, code: body?.code || `http_${status}`, body});
  }
}

async function call(method, path, body, token, signal) {
  const headers = {Accept: "application/json"};
  if (body) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {method, headers, body: body ? JSON.stringify(body) : undefined, cache: "no-store", signal});
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

/** This phone's token. It is kept sealed under the data key — a copy of the phone's storage must
 * not be a live login to the server — so only an unlocked phone calls the API with it. A string
 * was stored before issue 15 (reseal.js seals it at the first unlock). */
export async function token(device = null) {
  const tok = (device || (await getMeta("device")))?.token;
  if (!tok || typeof tok === "string") return tok || null;
  return unlocked() ? open(tok).catch(() => null) : null;
}

export async function push(mutations, pending) {
  return call("POST", "/api/sync/push", {protocol: PROTOCOL, app_version: APP_VERSION, clock: new Date().toISOString(),
    pending, mutations}, await token());
}

export async function pull(cursor) {
  const q = new URLSearchParams({protocol: PROTOCOL, limit: 2000});
  if (cursor) q.set("cursor", cursor);
  return call("GET", `/api/sync/pull?${q}`, null, await token());
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
