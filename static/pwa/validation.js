// The registry's validation rules on the phone: a mirror of webapp/validation, tested against
// the same vectors (tests/vectors/validation.json). Parsers return the normalised value or throw
// ValidationError, whose `errors` are {field, code, zh, en} like the server's FieldError.
import {today} from "./clock.js";

export const ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
export const MIN_BIRTH_YEAR = 1890;
const VALUE = Object.fromEntries([...ALPHABET].map((c, i) => [c, i]));
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECKS = "10X98765432";
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const HMT_AREAS = new Set(["810000", "820000", "830000"]);
const MOBILE = /^1[3-9][0-9]{9}$/;
const NAMES = {
  resident: ["身份证号码", "ID number"],
  hmt_permit: ["港澳台居民居住证号码", "HK/Macao/Taiwan residence permit number"],
  foreign_permanent: ["外国人永久居留身份证号码", "Foreign permanent residence ID number"],
  passport: ["护照号码", "Passport number"],
  other: ["证件号码", "Document number"],
};
export const ID_TYPES = Object.keys(NAMES);
let knownAreas = null;  // GB/T 2260 codes (current and retired), loaded when a form opens (regions.areaLists)

export class ValidationError extends Error {
  constructor(errors) {
    super(errors.map((e) => `${e.field}: ${e.en}`).join("; "));
    this.errors = errors;
  }
  get codes() { return this.errors.map((e) => e.code); }
}

const fail = (field, code, zh, en) => new ValidationError([{field, code, zh, en}]);
const nfkc = (v) => String(v ?? "").normalize("NFKC");
const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (_, k) => vars[k]);

export function setKnownAreaCodes(codes) { knownAreas = new Set(codes); }
const isKnownArea = (code) => (knownAreas ? knownAreas.has(code) : true);

/** Today in the registry's zone (TIMEZONE, Asia/Shanghai by default: clock.js). */
export const shanghaiToday = () => today();

/** Any day a person types about a record, the window the server keeps (webapp/validation/ranges.py
 * DAYS; both held to tests/vectors/validation.json): outside it a typo, 9999 for "long-term". */
export const DAYS = Object.freeze(["1900-01-01", "2099-12-31"]);

/** The error for a day ("YYYY-MM-DD") outside DAYS, or null; an empty day is for `required`.
 * The shape is checked first: a year past 9999 comes as "10000-01-01", before "2099" as text. */
export function dayProblem(day, field) {
  if (!day) return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(day) && DAYS[0] <= day && day <= DAYS[1]) return null;
  return {field, code: "field.range", zh: `日期应在 ${DAYS[0]} 到 ${DAYS[1]} 之间`, en: `The date must be from ${DAYS[0]} to ${DAYS[1]}`};
}

export function checkCharGb11643(first17) {
  if (!/^[0-9]{17}$/.test(first17)) throw new RangeError(`need 17 digits, got ${first17}`);
  let total = 0;
  for (let i = 0; i < 17; i++) total += Number(first17[i]) * WEIGHTS[i];
  return CHECKS[total % 11];
}

function realDate(ymd) {
  const [y, m, d] = [Number(ymd.slice(0, 4)), Number(ymd.slice(4, 6)), Number(ymd.slice(6, 8))];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return `${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6, 8)}`;
}

class Ctx {
  constructor(kind, field, today) { this.kind = kind; this.field = field; this.today = today; }
  err(code, zh, en, vars = {}) {
    const [nz, ne] = NAMES[this.kind];
    return fail(this.field, code, fill(zh, {n: nz, ...vars}), fill(en, {N: ne, ...vars}));
  }
  warn(code, zh, en, vars) { return this.err(code, zh, en, vars).errors[0]; }
  result(number, birth, sex, area, legacy, warnings = []) {
    return {id_type: this.kind, number, birth_date: birth, sex, area_code: area, legacy, warnings};
  }

  resident(raw) {
    if (raw.length !== 15 && raw.length !== 18) {
      throw this.err("id.length", "{n}应为18位（旧版为15位），现为{k}位",
        "{N} must have 18 characters (15 for the old form); got {k}", {k: raw.length});
    }
    const legacy = raw.length === 15;
    if (!(legacy ? /^[0-9]+$/ : /^[0-9]{17}[0-9X]$/).test(raw)) throw this.formatError();
    if (["81", "82", "83"].includes(raw.slice(0, 2))) {
      throw this.err("id.type_hmt_permit",
        "以81、82、83开头的是港澳台居民居住证号码，请将证件类型选为“港澳台居民居住证”",
        "Numbers starting with 81, 82 or 83 are HK/Macao/Taiwan residence permits; choose that ID type");
    }
    if (raw[0] === "9") {
      throw this.err("id.type_foreign_permanent",
        "以9开头的是外国人永久居留身份证号码，请将证件类型选为“外国人永久居留身份证”",
        "Numbers starting with 9 are foreign permanent residence ID cards; choose that ID type");
    }
    const first17 = legacy ? raw.slice(0, 6) + "19" + raw.slice(6) : raw.slice(0, 17);
    const number = legacy ? first17 + checkCharGb11643(first17) : raw;
    const result = this.gb11643(number, number.slice(0, 6), legacy);
    if (!isKnownArea(number.slice(0, 6))) {
      result.warnings.push(this.warn("id.area_unknown", "{n}的地区码{c}不在行政区划代码表中，请核对",
        "{N} has area code {c}, which is not in the GB/T 2260 list; please double-check", {c: number.slice(0, 6)}));
    }
    return result;
  }

  hmt(raw) {
    this.need18(raw);
    if (!HMT_AREAS.has(raw.slice(0, 6))) {
      throw this.err("id.hmt_area", "{n}应以810000（香港）、820000（澳门）或830000（台湾）开头",
        "{N} must start with 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan)");
    }
    return this.gb11643(raw, raw.slice(0, 6), false);
  }

  foreign(raw) {
    if (raw.length === 15) {
      if (!/^[A-Z]{3}[0-9]{12}$/.test(raw)) {
        throw this.err("id.format", "旧版{n}应为3个字母加12位数字", "{N} (old form) must be 3 letters followed by 12 digits");
      }
      return this.result(raw, null, null, null, true);
    }
    if (raw.length !== 18) {
      throw this.err("id.length", "{n}应为18位（旧版为3个字母加12位数字），现为{k}位",
        "{N} must have 18 characters (old form: 3 letters and 12 digits); got {k}", {k: raw.length});
    }
    this.need18(raw);
    if (raw[0] !== "9") {
      throw this.err("id.foreign_prefix", "新版{n}以9开头；不以9开头的18位号码可能是居民身份证号码",
        "{N} (new form) starts with 9; an 18-digit number not starting with 9 may be a resident ID number");
    }
    const province = raw.slice(1, 3) + "0000";
    const result = this.gb11643(raw, province, false);
    if (!isKnownArea(province)) {
      result.warnings.push(this.warn("id.area_unknown", "{n}的受理地代码{c}不是省级行政区划代码，请核对",
        "{N} has issuing-province code {c}, which is not a GB/T 2260 province; please double-check", {c: raw.slice(1, 3)}));
    }
    return result;
  }

  passport(raw) {
    if (raw.length < 5 || raw.length > 17) {
      throw this.err("id.length", "{n}应为5至17位，现为{k}位", "{N} must have 5 to 17 characters; got {k}", {k: raw.length});
    }
    if (!/^[A-Z0-9]+$/.test(raw)) throw this.err("id.format", "{n}只能包含字母和数字", "{N} may contain only letters and digits");
    return this.result(raw, null, null, null, false);
  }

  other(text) {
    const raw = text.replace(/\s+/g, "").toUpperCase();
    if (!raw) throw this.err("id.required", "{n}不能为空", "{N} is required");
    const length = [...raw].length;
    if (length > 32) {
      throw this.err("id.length", "{n}最多{m}个字符，现为{k}个", "{N} may have at most {m} characters; got {k}", {m: 32, k: length});
    }
    if (/[\p{C}\p{Z}]/u.test(raw)) throw this.err("id.format", "{n}含有不可打印字符", "{N} contains non-printable characters");
    return this.result(raw, null, null, null, false);
  }

  formatError() {
    return this.err("id.format", "{n}只能由数字组成，最后一位可为X", "{N} may contain only digits, with X allowed as the last character");
  }

  need18(raw) {
    if (raw.length !== 18) throw this.err("id.length", "{n}应为18位，现为{k}位", "{N} must have 18 characters; got {k}", {k: raw.length});
    if (!/^[0-9]{17}[0-9X]$/.test(raw)) throw this.formatError();
  }

  gb11643(number, area, legacy) {
    const born = this.birth(number.slice(6, 14));
    // Never the expected character (the server's rule, webapp/validation/ids.py): the typo is
    // usually in the middle, and "fixing" the last one records a valid number of someone else.
    if (number[17] !== checkCharGb11643(number.slice(0, 17))) {
      throw this.err("id.check", "{n}校验不通过：请对照证件逐位核对", "{N} failed its check: compare every character with the card");
    }
    const result = this.result(number, born, Number(number[16]) % 2 ? "M" : "F", area, legacy);
    const year = Number(born.slice(0, 4));
    if (year < MIN_BIRTH_YEAR) {
      result.warnings.push(this.warn("id.birth_implausible", "{n}中的出生年份{y}早于{m}年，请核对",
        "{N} contains birth year {y}, before {m}; please check it", {y: year, m: MIN_BIRTH_YEAR}));
    }
    return result;
  }

  birth(ymd) {
    const born = realDate(ymd);
    if (!born) {
      throw this.err("id.birth_invalid", "{n}中的出生日期{d}不是有效日期", "{N} contains birth date {d}, which is not a real date", {d: ymd});
    }
    if (born > this.today) {
      throw this.err("id.birth_future", "{n}中的出生日期{d}晚于今天", "{N} contains birth date {d}, which is in the future", {d: born});
    }
    return born;
  }
}

/** Validate an identity number of a type; `today` is "YYYY-MM-DD" (default: Shanghai's today).
 * @param {unknown} value
 * @param {string} [idType]
 * @param {{field?: string, today?: string}} [options] */
export function parsePersonId(value, idType = "resident", {field = "id_number", today} = {}) {
  if (!(idType in NAMES)) throw fail("id_type", "id.type_unknown", `未知的证件类型：${idType}`, `Unknown ID type: ${idType}`);
  const ctx = new Ctx(idType, field, today || shanghaiToday());
  const text = nfkc(value);
  if (idType === "other") return ctx.other(text);
  const raw = idType === "passport" ? text.replace(/\s+/g, "").toUpperCase() : text.replace(/[\s-]+/g, "").toUpperCase();
  if (!raw) throw ctx.err("id.required", "{n}不能为空", "{N} is required");
  return {resident: () => ctx.resident(raw), hmt_permit: () => ctx.hmt(raw),
    foreign_permanent: () => ctx.foreign(raw), passport: () => ctx.passport(raw)}[idType]();
}

const compact = (value, drop = /[\s-]+/g) => nfkc(value).replace(drop, "").toUpperCase();
const badChars = (code) => [...new Set([...code].filter((c) => !(c in VALUE)))].join("");

export function usccCheckChar(first17) {
  if (first17.length !== 17 || badChars(first17)) throw new RangeError(`need 17 characters from ${ALPHABET}`);
  let total = 0;
  for (let i = 0; i < 17; i++) total += VALUE[first17[i]] * USCC_WEIGHTS[i];
  return ALPHABET[(31 - (total % 31)) % 31];
}

export function parseUscc(value, field = "uscc") {
  const code = compact(value);
  if (!code) throw fail(field, "uscc.required", "统一社会信用代码不能为空", "Unified social credit code is required");
  if (code.length !== 18) {
    throw fail(field, "uscc.length", `统一社会信用代码应为18位，现为${code.length}位`,
      `Unified social credit code must have 18 characters; got ${code.length}`);
  }
  const bad = badChars(code);
  if (bad) {
    throw fail(field, "uscc.format", `统一社会信用代码含有不允许的字符：${bad}（不使用I、O、S、V、Z）`,
      `Unified social credit code contains characters not allowed: ${bad} (I, O, S, V and Z are never used)`);
  }
  if (!/^[0-9]{6}$/.test(code.slice(2, 8))) {
    throw fail(field, "uscc.format", "统一社会信用代码第3至8位（行政区划码）应为数字",
      "Unified social credit code characters 3 to 8 (the area code) must be digits");
  }
  if (code[17] !== usccCheckChar(code.slice(0, 17))) {
    throw fail(field, "uscc.check", "统一社会信用代码校验不通过：请对照营业执照逐位核对",
      "Unified social credit code failed its check: compare every character with the licence");
  }
  return code;
}

export function houseCheckChar(body) {
  if (body.length < 1 || body.length > 29 || badChars(body)) throw new RangeError(`need 1-29 characters from ${ALPHABET}`);
  let acc = 0;
  for (const c of body) acc = ((acc + VALUE[c]) * 3) % 31;
  return ALPHABET[(31 - acc) % 31];
}

export function makeHouseCode(body) {
  if (body.length !== 9) throw new RangeError("house code body must have 9 characters");
  return body + houseCheckChar(body);
}

function uuidBytes(uuid) {
  const hex = String(uuid).replace(/[{}-]/g, "").toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new RangeError(`not a UUID: ${uuid}`);
  return Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16));
}

/** The temporary field code of a new house, from its UUID (same as the server's). */
export async function makeTempHouseCode(uuid) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", uuidBytes(uuid)));
  let n = 0n;
  for (const b of digest.slice(0, 8)) n = (n << 8n) | BigInt(b);
  n %= 31n ** 9n;
  const digits = [];
  for (let i = 0; i < 9; i++) { digits.push(ALPHABET[Number(n % 31n)]); n /= 31n; }
  const body = "T" + digits.reverse().join("");
  return body + houseCheckChar(body);
}

export const isTempHouseCode = (code) => code.length === 11 && code[0] === "T";

export function parseHouseCode(value, field = "house_code") {
  const code = compact(value).replace(/O/g, "0").replace(/I/g, "1");
  if (!code) throw fail(field, "house_code.required", "门牌码不能为空", "House code is required");
  const bad = badChars(code);
  if (bad) throw fail(field, "house_code.format", `门牌码含有不允许的字符：${bad}`, `House code contains characters not allowed: ${bad}`);
  if (code.length !== 10 && !isTempHouseCode(code)) {
    throw fail(field, "house_code.length", `门牌码应为10位（临时码为T开头的11位），现为${code.length}位`,
      `House code must have 10 characters (11 starting with T for a temporary code); got ${code.length}`);
  }
  if (code[code.length - 1] !== houseCheckChar(code.slice(0, -1))) {
    throw fail(field, "house_code.check", "门牌码校验不通过，请核对或重新扫码",
      "House code failed its check; please re-check it or scan the plate again");
  }
  return code;
}

export function parseMobile(value, field = "phone") {
  let p = nfkc(value).replace(/[\s\-().]+/g, "");
  if (!p) throw fail(field, "phone.required", "手机号码不能为空", "Mobile number is required");
  for (const prefix of ["+86", "0086", "86"]) {
    if (p.startsWith(prefix) && p.length === prefix.length + 11) { p = p.slice(prefix.length); break; }
  }
  if (!MOBILE.test(p)) {
    throw fail(field, "phone.format", "手机号码应为以13至19开头的11位数字", "Mobile number must be 11 digits starting with 13 to 19");
  }
  return p;
}

const areaCodeLength = (digits) => (["01", "02"].includes(digits.slice(0, 2)) ? 3 : 4);

/** A mainland fixed line as "021-62345678"; without an area code it is in `defaultArea`
 * (LANDLINE_AREA_CODE, carried by the shell). The server's rule, webapp/validation/codes.py. */
export function parseLandline(value, field = "landline", defaultArea = "021") {
  let p = nfkc(value).replace(/[\s\-().]+/g, "");
  if (!p) throw fail(field, "landline.required", "固定电话不能为空", "Fixed-line number is required");
  for (const prefix of ["+86", "0086"]) {
    if (p.startsWith(prefix)) { p = "0" + p.slice(prefix.length); break; }
  }
  if (!/^[0-9]+$/.test(p)) {
    throw fail(field, "landline.format", "固定电话只能由数字组成（可加区号和“-”）",
      "A fixed-line number may contain only digits (with its area code and a hyphen)");
  }
  if (MOBILE.test(p)) throw fail(field, "landline.mobile", "这是手机号码，请填在“手机号码”中", "This is a mobile number: enter it as the mobile phone");
  if (!p.startsWith("0")) p = defaultArea + p;
  const area = p.slice(0, areaCodeLength(p)), local = p.slice(areaCodeLength(p));
  if (!/^0[1-9][0-9]{1,2}$/.test(area) || !/^[2-9][0-9]{6,7}$/.test(local)) {
    throw fail(field, "landline.format", "固定电话应为区号加7至8位号码，如021-62345678",
      "A fixed-line number is an area code and 7 or 8 digits, e.g. 021-62345678");
  }
  if (area.length === 3 && local.length !== 8) {
    throw fail(field, "landline.length", `区号${area}的固定电话号码应为8位，现为${local.length}位`,
      `Numbers in area ${area} have 8 digits; got ${local.length}`);
  }
  return `${area}-${local}`;
}

let counties = null;  // current county-level GB/T 2260 codes (regions.json), loaded when a form opens
export function setCounties(codes) { counties = new Set(codes); }

/** A hukou region: a current county code, as offered by the picker (webapp/validation/area_codes.py). */
export function parseRegion(value, field = "hukou_region") {
  const code = String(value ?? "").replace(/\s+/g, "");
  if (!code) throw fail(field, "region.required", "请选择户籍所在区县", "Choose the hukou district or county");
  if (!/^[0-9]{6}$/.test(code)) throw fail(field, "region.format", "户籍地区码应为6位数字", "A hukou region code has 6 digits");
  if (counties && !counties.has(code)) {
    throw fail(field, "region.unknown", "户籍地区码不是现行的区县代码，请从列表中选择",
      "Not a current district or county code: choose one from the list");
  }
  return code;
}

export function maskId(number) {
  const n = String(number || "").trim();
  let head, tail;
  if (n.length >= 12) [head, tail] = [3, 4];
  else if (n.length >= 5) [head, tail] = [1, 2];
  else return "*".repeat(n.length);
  return n.slice(0, head) + "*".repeat(n.length - head - tail) + n.slice(-tail);
}

export function maskPhone(phone) {
  let p;
  try { p = parseMobile(phone); } catch { p = String(phone || "").replace(/\s+/g, "").toUpperCase(); }
  if (p.length >= 11) return p.slice(0, 3) + "*".repeat(p.length - 7) + p.slice(-4);
  if (p.length >= 7) return "*".repeat(p.length - 4) + p.slice(-4);
  return "*".repeat(p.length);
}
