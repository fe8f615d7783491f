// Dates and times as the registry shows them: in its zone (TIMEZONE, carried by the shell as
// <meta name="gw-tz">, Asia/Shanghai by default), whatever zone the phone itself is set to — a
// visit at 23:19 in the console is 23:19 on the phone. Storage and the wire stay UTC.

const FALLBACK = "Asia/Shanghai";
let cached = null;

/** The registry's IANA zone; a zone this browser does not know falls back to Shanghai. */
export function zone() {
  if (cached) return cached;
  const wanted = (typeof document !== "undefined" && document.querySelector('meta[name="gw-tz"]')?.content) || FALLBACK;
  try {
    new Intl.DateTimeFormat("en", {timeZone: wanted});
    cached = wanted;
  } catch {
    cached = FALLBACK;
  }
  return cached;
}

const formats = new Map();
function parts(date) {
  const tz = zone();
  if (!formats.has(tz)) {
    formats.set(tz, new Intl.DateTimeFormat("en-GB", {timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"}));
  }
  const out = {};
  for (const p of formats.get(tz).formatToParts(date)) out[p.type] = p.value;
  return out;
}

const asDate = (value) => (value instanceof Date ? value : new Date(value));

/** YYYY-MM-DD of a moment (default: now) in the registry's zone. */
export function dateOf(value = new Date()) {
  const p = parts(asDate(value));
  return `${p.year}-${p.month}-${p.day}`;
}

export const today = () => dateOf(new Date());

/** HH:MM of a moment in the registry's zone. */
export function timeOf(value) {
  const p = parts(asDate(value));
  return `${p.hour}:${p.minute}`;
}

/** "YYYY-MM-DD HH:MM" of a moment in the registry's zone ("" for none). */
export function dateTime(value) {
  if (!value) return "";
  const d = asDate(value);
  return Number.isNaN(d.getTime()) ? "" : `${dateOf(d)} ${timeOf(d)}`;
}

/** Milliseconds the zone is ahead of UTC at that moment. */
function offsetAt(ms) {
  const p = parts(new Date(ms));
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(ms / 1000) * 1000;
}

/** The UTC moment of a wall-clock midnight in the zone (twice: the offset may differ there). */
export function midnight(year, monthIndex, day) {
  const wall = Date.UTC(year, monthIndex, day);
  const first = wall - offsetAt(wall);
  return new Date(wall - offsetAt(first));
}
