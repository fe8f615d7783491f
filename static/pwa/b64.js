// Base64 for bytes the phone keeps or hands over: the vault's sealed values (vault.js) and the
// rescue file's fields and keys (seal.js, base64url without padding as JWKs write it).

/** Chunked: a sealed search index is megabytes, too many arguments for one fromCharCode call.
 * @param {ArrayBuffer | Uint8Array} data */
export function b64(data) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(out);
}

/** @param {string} text */
export const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** @param {ArrayBuffer | Uint8Array} data */
export const b64url = (data) => b64(data).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** @param {string} text */
export const unb64url = (text) => unb64(text.replace(/-/g, "+").replace(/_/g, "/"));
