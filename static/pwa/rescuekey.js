// The server's public key that the rescue file is sealed to (seal.js, docs/sync.md §6.1), kept
// in meta "rescue_key" as {kid, jwk, fetched_at, checked_at}. It comes with the registration's
// answer; a sync asks again (GET /api/rescue-key) only when none is held or the last look is a
// day old: at most one request a day, never one more per sync (issue 17 counts them). It must be
// on the phone before it is needed: a revoked phone exports its outbox after the server stopped
// talking to it, so forgetRegistry (sync.js) leaves it. Logout's wipe may drop it: it is public,
// and the next login brings it again.
import * as api from "./api.js";
import {getMeta, setMeta} from "./db.js";
import {importServer, kidOf} from "./seal.js";

const META = "rescue_key";
const DAY_MS = 86400000;

/** The key to seal to, or null: a phone not online since sealing came writes the plain file.
 * @returns {Promise<import("./seal.js").ServerKey | null>} */
export async function held() {
  const kept = await getMeta(META);
  return kept?.kid && kept?.jwk ? {kid: kept.kid, jwk: kept.jwk} : null;
}

/** A key as the server gives it, or null when it is not one to seal to. Its `kid` must be its
 * own: the server opens a file with the key the `kid` names, and a mismatch would be a file
 * nobody can open — found only at the centre, after the phone was wiped.
 * @param {any} answer @returns {Promise<import("./seal.js").ServerKey | null>} */
async function checked(answer) {
  const jwk = answer?.jwk;
  if (typeof answer?.kid !== "string" || !/^[0-9a-f]{16}$/.test(answer.kid)) return null;
  if (jwk?.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.x !== "string" || typeof jwk.y !== "string") return null;
  try {
    await importServer(jwk);  // a point of P-256, or it throws
    if ((await kidOf(jwk)) !== answer.kid) return null;
  } catch {
    return null;
  }
  return {kid: answer.kid, jwk: {kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y}};
}

/** Keep the key the registration answered with (`rescue_key`; an older server sends none).
 * @param {any} answer */
export async function keep(answer) {
  const key = await checked(answer);
  const at = new Date().toISOString();
  if (key) await setMeta(META, {...key, fetched_at: at, checked_at: at});
  return Boolean(key);
}

/** During a sync: ask for the key when none is held or the last look is a day away (a clock set
 * back counts too). A look the server answered counts even when it gave no key (a server without
 * the endpoint is not asked at every sync); one that never reached it (no network) does not, and
 * the key held stays. Never throws: the sync's result is not this. */
export async function refresh() {
  const kept = await getMeta(META);
  const now = Date.now();
  const last = Date.parse(kept?.checked_at ?? "");
  if (Math.abs(now - last) < DAY_MS) return;  // NaN (never looked) goes on
  let answer = null;
  try {
    answer = await api.rescueKey();
  } catch (error) {
    if (!(error instanceof api.ApiError)) return;  // not sent: try at the next sync
  }
  const key = await checked(answer);
  const at = new Date(now).toISOString();
  await setMeta(META, key ? {...key, fetched_at: at, checked_at: at} : {...kept, checked_at: at});
}
