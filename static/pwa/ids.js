// Record ids: UUID version 7 (RFC 9562), milliseconds first, then 74 random bits. The server
// makes the same ids (webapp/base/ids.py; both held to tests/vectors/ids.json). Ids made in the
// same moment sort together, so a push's new rows land on the same few pages of each index
// instead of a random page each (BENCHMARKS.md, figure 10). The server takes any UUID.
export const MAX_MS = 2 ** 48 - 1;

/** The id made at `ms` from 16 random bytes (their first six, and the version and variant
 * bits, are overwritten). */
export function uuid7(ms, random) {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_MS) throw new RangeError(`milliseconds out of range for a UUID v7: ${ms}`);
  if (random.length !== 16) throw new RangeError("a UUID v7 takes 16 random bytes");
  const b = Uint8Array.from(random);
  let t = ms;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A fresh id for a record or a mutation made on this phone. */
export const newId = () => uuid7(Date.now(), crypto.getRandomValues(new Uint8Array(16)));
