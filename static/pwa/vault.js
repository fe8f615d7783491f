// ID numbers at rest: AES-GCM under a data key; the data key is wrapped by a key derived from
// the coordinator's PIN (PBKDF2), and a second copy by one derived from the login password, so
// a forgotten PIN is recovered by logging in again online without losing anything.
import {getMeta, setMeta} from "./db.js";

const ITERATIONS = 200000;
const enc = new TextEncoder();
let dataKey = null;  // in memory only while unlocked

const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)));
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

async function kek(secret, salt) {
  const base = await crypto.subtle.importKey("raw", enc.encode(secret), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({name: "PBKDF2", salt, iterations: ITERATIONS, hash: "SHA-256"}, base,
    {name: "AES-GCM", length: 256}, false, ["wrapKey", "unwrapKey"]);
}

async function wrap(key, secret) {
  const salt = crypto.getRandomValues(new Uint8Array(16)), iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = await crypto.subtle.wrapKey("raw", key, await kek(secret, salt), {name: "AES-GCM", iv});
  return {salt: b64(salt), iv: b64(iv), wrapped: b64(wrapped)};
}

async function unwrap(box, secret) {
  return crypto.subtle.unwrapKey("raw", unb64(box.wrapped), await kek(secret, unb64(box.salt)),
    {name: "AES-GCM", iv: unb64(box.iv)}, {name: "AES-GCM", length: 256}, true, ["encrypt", "decrypt"]);
}

export const unlocked = () => dataKey !== null;
export function lock() { dataKey = null; }
export async function hasVault() { return Boolean(await getMeta("vault")); }

/** First PIN (a new data key), or a new PIN for the key recovered with the password. */
export async function setPin(pin, password) {
  const vault = await getMeta("vault");
  let key = dataKey;
  if (!key && vault && password) {
    try { key = await unwrap(vault.byPassword, password); } catch { key = null; }
  }
  if (!key) key = await crypto.subtle.generateKey({name: "AES-GCM", length: 256}, true, ["encrypt", "decrypt"]);
  await setMeta("vault", {byPin: await wrap(key, pin), byPassword: password ? await wrap(key, password) : vault?.byPassword});
  dataKey = key;
  return !vault || Boolean(password);
}

export async function unlock(pin) {
  const vault = await getMeta("vault");
  try { dataKey = await unwrap(vault.byPin, pin); return true; } catch { return false; }
}

export async function seal(text) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({name: "AES-GCM", iv}, dataKey, enc.encode(text));
  return {iv: b64(iv), ct: b64(ct)};
}

export async function open(box) {
  const pt = await crypto.subtle.decrypt({name: "AES-GCM", iv: unb64(box.iv)}, dataKey, unb64(box.ct));
  return new TextDecoder().decode(pt);
}

/** The stored form of an ID number: encrypted, masked for lists, last 6 for suffix search. */
export async function protectId(number) {
  if (!number) return {id_enc: null, id_masked: "", id_tail: ""};
  const {maskId} = await import("./validation.js");
  return {id_enc: await seal(number), id_masked: maskId(number), id_tail: number.slice(-6)};
}
