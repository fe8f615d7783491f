// The data key that seals residents' personal fields at rest (AES-GCM, personal.js). It is
// stored only wrapped: once by a key derived from the coordinator's PIN (PBKDF2), once by one
// derived from the login password, so a forgotten PIN — or a PIN destroyed after too many wrong
// tries — is recovered by logging in again online without losing anything queued.
import {b64, unb64} from "./b64.js";
import {getMeta, setMeta} from "./db.js";

// OWASP's figure for PBKDF2-HMAC-SHA256. Measured in headless Chromium on the benchmark machine
// (bench/fieldapp_search.py): about 0.1–0.2 s per unlock; a slow phone takes a few times that.
// Boxes wrapped before carry no count and were made with the old one.
const ITERATIONS = 600000;
const OLD_ITERATIONS = 200000;
export const PIN_MIN = 6;
export const PIN_MAX = 12;
export const TRIES = 5;  // wrong PINs in a row before the PIN-wrapped copy is destroyed
const enc = new TextEncoder();
let dataKey = null;  // in memory only while unlocked
let held = null;  // opened with a PIN shorter than PIN_MIN: usable only once a new PIN is chosen

export const pinOk = (pin) => new RegExp(`^[0-9]{${PIN_MIN},${PIN_MAX}}$`).test(pin);

async function kek(secret, salt, iterations) {
  const base = await crypto.subtle.importKey("raw", enc.encode(secret), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({name: "PBKDF2", salt, iterations, hash: "SHA-256"}, base,
    {name: "AES-GCM", length: 256}, false, ["wrapKey", "unwrapKey"]);
}

async function wrap(key, secret) {
  const salt = crypto.getRandomValues(new Uint8Array(16)), iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = await crypto.subtle.wrapKey("raw", key, await kek(secret, salt, ITERATIONS), {name: "AES-GCM", iv});
  return {salt: b64(salt), iv: b64(iv), wrapped: b64(wrapped), iterations: ITERATIONS};
}

async function unwrap(box, secret) {
  return crypto.subtle.unwrapKey("raw", unb64(box.wrapped), await kek(secret, unb64(box.salt), box.iterations || OLD_ITERATIONS),
    {name: "AES-GCM", iv: unb64(box.iv)}, {name: "AES-GCM", length: 256}, true, ["encrypt", "decrypt"]);
}

export const unlocked = () => dataKey !== null;
/** Forget the key; views, the search index and the numbers index drop what they opened. */
export function lock() {
  dataKey = null;
  held = null;
  if (typeof window !== "undefined") window.dispatchEvent(new CustomEvent("gw:locked"));
}
export async function hasVault() { return Boolean(await getMeta("vault")); }
/** The PIN-wrapped copy was destroyed after TRIES wrong PINs: only the password opens the key now. */
export async function pinDestroyed() {
  const vault = await getMeta("vault");
  return Boolean(vault && !vault.byPin);
}

/** First PIN (a new data key), a new PIN for the key recovered with the password, or a new PIN
 * replacing one shorter than PIN_MIN. Answers whether the phone's sealed data is still readable
 * (false: a new key, so everything must be fetched again). */
export async function setPin(pin, password) {
  const vault = await getMeta("vault");
  let key = dataKey || held;
  if (!key && vault?.byPassword && password) {
    try { key = await unwrap(vault.byPassword, password); } catch { key = null; }
  }
  if (!key && vault?.byPin && password) {
    // The password changed since this phone last logged in (the centre's reset, /account), so
    // its copy no longer opens: the PIN typed now may be the old one, and then nothing queued
    // is lost. One try per online login (the server checked the password), not counted.
    try { key = await unwrap(vault.byPin, pin); } catch { key = null; }
  }
  const kept = Boolean(key) || !vault;
  if (!key) key = await crypto.subtle.generateKey({name: "AES-GCM", length: 256}, true, ["encrypt", "decrypt"]);
  await setMeta("vault", {byPin: await wrap(key, pin),
    byPassword: password ? await wrap(key, password) : vault?.byPassword, failures: 0});
  dataKey = key;
  held = null;
  return kept;
}

/** Try a PIN: {ok: true}, {ok: true, weak: true} (right, but shorter than PIN_MIN: choose a new
 * one with setPin; `weakOk` opens anyway, for the revoked phone's last export), or {ok: false,
 * left} tries before the PIN-wrapped copy is destroyed (left 0: it is). The try is counted
 * before the key derivation runs, so closing the app mid-try does not give a free one. */
export async function unlock(pin, {weakOk = false} = {}) {
  const vault = await getMeta("vault");
  if (!vault?.byPin) return {ok: false, left: 0};
  const failures = (vault.failures || 0) + 1;
  await setMeta("vault", {...vault, failures});
  let key;
  try {
    key = await unwrap(vault.byPin, pin);
  } catch {
    if (failures < TRIES) return {ok: false, left: TRIES - failures};
    // Destroyed, not hidden: only the password-wrapped copy is left, and the server checks the
    // password. The queued work stays sealed under the same key and is opened after that login.
    await setMeta("vault", {byPassword: vault.byPassword, failures, destroyed_at: new Date().toISOString()});
    return {ok: false, left: 0};
  }
  // Wrapped with an older iteration count: wrap it again now that the PIN is at hand.
  const byPin = (vault.byPin.iterations || OLD_ITERATIONS) === ITERATIONS ? vault.byPin : await wrap(key, pin);
  await setMeta("vault", {...vault, byPin, failures: 0});
  if (pin.length < PIN_MIN && !weakOk) {
    held = key;
    return {ok: true, weak: true};
  }
  dataKey = key;
  return {ok: true};
}

export async function seal(text) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({name: "AES-GCM", iv}, dataKey, enc.encode(text));
  return {iv: b64(iv), ct: b64(ct)};
}

export async function open(box, key = dataKey) {
  const pt = await crypto.subtle.decrypt({name: "AES-GCM", iv: unb64(box.iv)}, key, unb64(box.ct));
  return new TextDecoder().decode(pt);
}

/** Open a box with the password-wrapped copy of the key, the phone staying locked (logging in
 * again after a forgotten or destroyed PIN needs the old device token). Null when it does not open. */
export async function openWithPassword(box, password) {
  try {
    return await open(box, await unwrap((await getMeta("vault")).byPassword, password));
  } catch {
    return null;
  }
}
