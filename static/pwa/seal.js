// The sealed rescue file (docs/sync.md §6.1). The outbox file leaves the app (Downloads, a chat,
// a USB stick) with residents' names, ID numbers and phones: sealed to the server's P-256 key, only
// the server that issued the key opens it, at the centre's import. ECDH with a fresh key of this
// phone's own, HKDF-SHA256, AES-256-GCM; the server's sync/sealed.py seals and opens the same way,
// and both are held to tests/vectors/rescue_seal.json.

import {b64url, unb64url} from "./b64.js";

export const FORMAT = "gridwalk-rescue-sealed";
export const VERSION = 1;
const FILE_INFO = "gridwalk rescue file v1";
const CURVE = {name: "ECDH", namedCurve: "P-256"};
const enc = new TextEncoder();

/** @typedef {{kty: string, crv: string, x: string, y: string, d?: string}} EcJwk */
/** @typedef {{kid: string, jwk: EcJwk}} ServerKey */
/** @typedef {{format: string, version: number, kid: string, epk: EcJwk, iv: string, ciphertext: string}} Sealed */

/** The public part of a P-256 JWK, with nothing else (a JWK may carry `d`, `ext`, `key_ops`).
 * @param {EcJwk | JsonWebKey} jwk @returns {EcJwk} */
const publicOf = (jwk) => ({kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y});

/** The server's public key for ECDH; rejects anything but a point of P-256.
 * @param {EcJwk} jwk */
export function importServer(jwk) {
  return crypto.subtle.importKey("jwk", publicOf(jwk), CURVE, false, []);
}

/** The key id the server gives its key (docs/sync.md §6.1): the first 8 bytes, in hex, of
 * SHA-256 of the uncompressed point. A key whose `kid` is not its own is refused when kept
 * (rescuekey.js): the server finds its key by `kid`, and a file sealed under a mismatch is lost.
 * @param {EcJwk} jwk */
export async function kidOf(jwk) {
  const point = new Uint8Array(65);
  point[0] = 4;
  point.set(unb64url(jwk.x), 1);
  point.set(unb64url(jwk.y), 33);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", point));
  return [...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** This file's ephemeral key pair: fresh, or (for the vectors only) a given private JWK.
 * @param {EcJwk | undefined} given @returns {Promise<{privateKey: CryptoKey, jwk: EcJwk}>} */
async function ephemeralPair(given) {
  if (given) {
    const privateKey = await crypto.subtle.importKey("jwk", {...publicOf(given), d: given.d}, CURVE, false, ["deriveBits"]);
    return {privateKey, jwk: publicOf(given)};
  }
  const pair = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey(CURVE, false, ["deriveBits"]));
  return {privateKey: pair.privateKey, jwk: publicOf(await crypto.subtle.exportKey("jwk", pair.publicKey))};
}

/** `plainText` (the plain rescue file's JSON) sealed to `serverKey` ({kid, jwk}). `ephemeral`
 * (a private JWK) and `iv` (base64url) are for the shared vectors only: every real file
 * draws fresh ones, as a reused pair of them would give away the plain text.
 * @param {string} plainText @param {ServerKey} serverKey
 * @param {{ephemeral?: EcJwk, iv?: string}} [fixed] @returns {Promise<Sealed>} */
export async function seal(plainText, serverKey, {ephemeral, iv} = {}) {
  const {kid} = serverKey;
  const mine = await ephemeralPair(ephemeral);
  const shared = await crypto.subtle.deriveBits({name: "ECDH", public: await importServer(serverKey.jwk)}, mine.privateKey, 256);
  const ikm = await crypto.subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey({name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: enc.encode(FILE_INFO)},
    ikm, {name: "AES-GCM", length: 256}, false, ["encrypt"]);
  const nonce = iv ? unb64url(iv) : crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt({name: "AES-GCM", iv: nonce, additionalData: enc.encode(`${FORMAT}/${VERSION}/${kid}`)},
    key, enc.encode(plainText));
  return {format: FORMAT, version: VERSION, kid, epk: mine.jwk, iv: b64url(nonce), ciphertext: b64url(ciphertext)};
}
