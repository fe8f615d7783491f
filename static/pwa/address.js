// Addresses as written, read forgivingly: the console's rule (webapp/registry/address.py, whose
// header says it in words), step for step, held to the same cases (tests/vectors/address.json).

const CN_DIGITS = {零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9};
const CN_UNITS = {十: 10, 百: 100, 千: 1000};
const WORDS = "号楼|单元|弄|号|室|层";
const CN_NUMBER = new RegExp(`([零〇一二两三四五六七八九十百千]+)(?=(?:${WORDS}|栋|幢|座|楼))`, "g");
const BUILDING = /([0-9A-Z]+)(?:栋|幢|座)/g;
const SPACED_WORD = new RegExp(`([0-9A-Z])\\s+(?=(?:${WORDS}|栋|幢|座))`, "g");  // "1 号楼" is one word
const TOKEN = new RegExp(`([0-9A-Z][0-9A-Z\\-]*)(${WORDS})?|([^0-9A-Z]+)`, "g");

function cnNumber(text) {
  const chars = [...text];
  if (!chars.some((c) => c in CN_UNITS)) return chars.map((c) => CN_DIGITS[c]).join("");  // 一零零一 → 1001
  let total = 0, current = 0;
  for (const c of chars) {
    if (c in CN_UNITS) { total += (current || 1) * CN_UNITS[c]; current = 0; } else current = CN_DIGITS[c];
  }
  return String(total + current);
}

export function normalise(word) {
  return word.normalize("NFKC").toUpperCase().replace(/\s+/g, "")
    .replace(CN_NUMBER, (_, n) => cnNumber(n)).replace(BUILDING, "$1号楼");
}

/** [["text", value] | ["num", number, word]] of what was typed (word "" for none). */
export function tokens(text) {
  const out = [];
  const spaced = String(text ?? "").normalize("NFKC").toUpperCase().replace(SPACED_WORD, "$1");
  for (const word of spaced.split(/\s+/).filter(Boolean)) {
    for (const m of normalise(word).matchAll(TOKEN)) out.push(m[1] ? ["num", m[1], m[2] || ""] : ["text", m[3]]);
  }
  return out;
}

const digits = (v) => /^[0-9]+$/.test(v);

/** A house's address as Shanghai writes it (and the console's House.address). */
export function formatAddress(h) {
  const part = (key, word) => {
    const value = String(h?.[key] ?? "").trim();
    return digits(value) ? `${value}${word}` : value;
  };
  return [String(h?.road ?? "").trim(), part("number", "号"), part("building", "号楼"), part("unit", "单元"),
    part("room", "室")].join("");
}

function tokenMatches(q, a) {
  if (q[0] !== a[0]) return false;
  if (q[0] === "text") return a[1].includes(q[1]);
  return q[1] === a[1] && (!q[2] || !a[2] || q[2] === a[2]);
}

/** Whether the query's tokens appear, in order, among the address's. */
export function matches(query, address) {
  if (!query.length) return false;
  let at = 0;
  for (const q of query) {
    while (at < address.length && !tokenMatches(q, address[at])) at += 1;
    if (at === address.length) return false;
    at += 1;
  }
  return true;
}

const runs = (text) => String(text ?? "").match(/[0-9]+|[^0-9]+/g) || [];

/** Natural order: digits as numbers (101室 before 1001室), other characters by code point. */
export function naturalCompare(a, b) {
  const x = runs(a), y = runs(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const dx = digits(x[i]), dy = digits(y[i]);
    if (dx !== dy) return dx ? -1 : 1;
    if (dx) {
      const diff = Number(x[i]) - Number(y[i]);
      if (diff) return diff;
    } else if (x[i] !== y[i]) {
      return codePoints(x[i], y[i]);
    }
  }
  return x.length - y.length;
}

function codePoints(a, b) {
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i].codePointAt(0) - y[i].codePointAt(0);
  }
  return x.length - y.length;
}

// The word each part's number carries by default ("88号" is number 88, "1栋" building 1).
const OWN_WORDS = {road: [], number: ["号"], building: ["号楼", "号"], room: ["室"]};

/** One part of an address as compared (address.py `part_key`). */
export function partKey(value, part) {
  let text = normalise(String(value ?? ""));
  if (part !== "road" && /^[零〇一二两三四五六七八九十百千]+$/.test(text)) text = cnNumber(text);  // "一零零一" is 1001
  for (const word of OWN_WORDS[part]) {
    const stem = text.slice(0, -word.length);
    if (text.endsWith(word) && stem && /[0-9A-Z]$/.test(stem)) return stem;
  }
  return text;
}

/** [road|number|building, room] of an address's parts; [null, null] without a road. */
export function placeKeys(parts) {
  if (!partKey(parts?.road, "road")) return [null, null];
  return [["road", "number", "building"].map((p) => partKey(parts?.[p], p)).join("|"), partKey(parts?.room, "room")];
}

/** "same" | "elsewhere" | "unknown": a hukou address against the house lived in (address.py `hukou_place`). */
export function hukouPlace(hukou, house, {homeRegion, level}) {
  const [mine, myRoom] = placeKeys(hukou);
  if (!hukou?.region || mine === null) return "unknown";
  const [theirs, theirRoom] = placeKeys(house);
  return hukou.region === homeRegion && mine === theirs && (level === "building" || myRoom === theirRoom) ? "same" : "elsewhere";
}
