// 待同步: what waits to sync and why — refused changes to fix first (with the reason), changes
// waiting behind them, what the centre decided (shown once), what waits for the centre, then
// the queue itself (what, whose house or person, when). It follows every sync and every save.
import {dateTime} from "../clock.js";
import {db, getMeta} from "../db.js";
import {fieldName, shown, subject, what} from "../describe.js";
import {msg, t} from "../i18n.js";
import * as notices from "../notices.js";
import * as outbox from "../outbox.js";
import {sync} from "../sync.js";
import {field, formValues, h, show, showErrors, toast} from "../ui.js";
import {parseLandline, parseMobile, parsePersonId, parseRegion, ValidationError} from "../validation.js";
import {landlineArea} from "./person.js";
import {areaLists} from "../regions.js";
import {open} from "../vault.js";
import {logout} from "./session.js";

const HASH = "#/outbox";
let dirty = false;  // a fix form is being typed into: a sync must not redraw it away
let syncing = false;

/** The same checks as the form that made the entry: a fix the server would refuse is refused
 * here, with the same message. Returns the wire fixes and what they change in the local record
 * (plain values: outbox.resend seals a person's). */
async function checkFix(entry, values) {
  const errors = [], fixes = {}, local = {};
  const [record] = await Promise.all([(await db()).get(entry.type, entry.record_id), areaLists()]);
  for (const [name, raw] of Object.entries(values)) {
    try {
      if (name === "id_number") {
        const sent = typeof entry.fields.id_type === "string" ? entry.fields.id_type : null;
        const id = parsePersonId(raw, values.id_type || sent || record?.id_type || "resident");
        fixes.id_number = id.number;
        Object.assign(local, {id_number: id.number}, id.sex ? {sex: id.sex} : {}, id.birth_date ? {birth_date: id.birth_date} : {});
      } else if (name === "phone" && raw) {
        fixes.phone = local.phone = parseMobile(raw);
      } else if (name === "landline" && raw) {
        fixes.landline = local.landline = parseLandline(raw, "landline", landlineArea());
      } else if (name === "hukou_region" && raw) {
        fixes.hukou_region = local.hukou_region = parseRegion(raw);
      } else if (name === "name" && !raw) {
        errors.push({field: "name", code: "field.required", zh: "姓名必填", en: "Name is required"});
      } else {
        fixes[name] = local[name] = raw === "" ? null : raw;
      }
    } catch (e) {
      if (e instanceof ValidationError) errors.push(...e.errors); else throw e;
    }
  }
  return {errors, fixes, local};
}

async function typed(value) {
  // The refused value, as the coordinator typed it (a personal value is kept encrypted).
  if (typeof value === "string") return value;
  if (value?.$enc) return open(value.$enc).catch(() => "");
  return "";
}

/** "新增人员 · 张三 · 谷阳北路21弄1号楼1001室" and when it was saved. */
async function heading(type, op, recordId, fields, at) {
  const about = await subject(type, recordId, fields);
  return [h("strong", {class: "what"}, what(type, op, fields)),
    about.who ? h("span", {class: "who"}, ` · ${about.who}`) : null,
    about.address ? h("span", {class: "where muted"}, ` · ${about.address}`) : null,
    at ? h("span", {class: "when muted"}, ` · ${dateTime(at)}`) : null];
}

async function fixForm(entry, group) {
  const inputs = [];
  for (const e of entry.errors || []) inputs.push(field(fieldName(entry.type, e.field), e.field, {value: await typed(entry.fields[e.field]), autocomplete: "off"}));
  const waiting = [];
  for (const g of group) waiting.push(h("li", {}, ...(await heading(g.type, g.op, g.record_id, g.fields, g.at))));
  const form = h("form", {class: "card rejected", "data-seq": entry.seq, novalidate: true, "aria-label": `${t("rejected")} #${entry.seq}`},
    h("p", {}, ...(await heading(entry.type, entry.op, entry.record_id, entry.fields, entry.at))),
    ...inputs,
    group.length ? [h("p", {class: "muted"}, t("blocked")), h("ul", {class: "list blocked-group"}, waiting)] : null,
    h("button", {type: "submit"}, t("resend")));
  queueMicrotask(() => showErrors(form, entry.errors || [], msg));
  form.addEventListener("input", () => { dirty = true; });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const {errors, fixes, local} = await checkFix(entry, formValues(form));
    if (errors.length) return showErrors(form, errors, msg);
    dirty = false;
    await outbox.resend([entry.seq, ...group.map((g) => g.seq)], fixes, local);
    toast(t("saved"));
    return render();
  });
  return form;
}

/** One field of a notice: what this phone sent, what the registry holds, and the decision. */
async function noticeField(n, key) {
  const sent = await shown(n.type, key, n.fields?.[key]);
  const parts = [h("span", {class: "field-name"}, `${fieldName(n.type, key)}：`),
    h("span", {class: "sent"}, `${t("phone_sent")} ${sent}`)];
  if (n.registry && key in n.registry) parts.push(h("span", {class: "registry"}, ` · ${t("registry_holds")} ${await shown(n.type, key, n.registry[key])}`));
  const d = n.decision?.fields?.[key];
  if (d) {
    const value = d.choice === "keep" && n.registry && key in n.registry ? n.registry[key] : d.choice === "take" ? n.fields?.[key] : d.value;
    const words = {keep: "decided_keep", take: "decided_take", edit: "decided_edit"}[d.choice] || "decided_other";
    parts.push(h("span", {class: "decision"}, ` · ${t(words)}${value !== undefined ? ` ${await shown(n.type, key, value)}` : ""}`));
  }
  return h("li", {"data-field": key}, parts);
}

async function notice(n) {
  const keys = Object.keys(n.fields || {}).filter((k) => !["person_id", "house_id"].includes(k) || n.op === "create");
  const decided = Boolean(n.decision);
  const lines = [];
  for (const key of keys) lines.push(await noticeField(n, key));
  return h("li", {class: decided ? "conflict decided" : "conflict", "data-conflict": n.conflict_id},
    h("p", {}, h("strong", {}, what(n.type, n.op, n.fields || {})), n.who ? ` · ${n.who}` : "",
      n.address ? h("span", {class: "muted"}, ` · ${n.address}`) : null, h("span", {class: "muted"}, ` · ${dateTime(n.at)}`)),
    h("ul", {class: "fields"}, lines),
    h("p", {class: decided ? "outcome ok" : "outcome"}, decided ? decisionLine(n) : t("centre_will_decide")));
}

function decisionLine(n) {
  if (n.decision.action === "discard") return t("decided_discard");
  const choices = Object.values(n.decision.fields || {}).map((d) => d.choice);
  if (choices.length && choices.every((c) => c === "take")) return t("decided_all_take");
  if (choices.length && choices.every((c) => c === "keep")) return t("decided_all_keep");
  return t("decided_mixed");
}

/** A sync error code in words ("network" → 无网络); one the app has no words for reads as
 * the server's refusal, never as the code (a coordinator cannot act on "http_502"). */
function errorWords(code) {
  const key = `sync_error_${code}`;
  return t(key) === key ? t("sync_error_other") : t(key);
}

function status(entries, last) {
  const count = (state) => entries.filter((e) => e.state === state).length;
  const result = last ? `${dateTime(last.at)} · ${last.ok ? t("sync_ok") : t("sync_failed_why").replace("{why}", errorWords(last.error))}` : t("never");
  return h("dl", {class: "stats", id: "outbox-status"},
    h("dt", {}, t("pending")), h("dd", {id: "pending-count"}, String(count("pending"))),
    h("dt", {}, t("rejected")), h("dd", {id: "rejected-count"}, String(count("rejected"))),
    h("dt", {}, t("blocked")), h("dd", {id: "blocked-count"}, String(count("blocked"))),
    h("dt", {}, t("last_sync")), h("dd", {id: "last-sync"}, syncing ? t("syncing") : result));
}

export async function render() {
  const entries = (await outbox.all()).sort((a, b) => a.seq - b.seq);
  const last = await getMeta("last_sync");
  const all = await notices.all();
  const rejected = entries.filter((e) => e.state === "rejected");
  const byId = Object.fromEntries(entries.map((e) => [e.id, e]));
  const groupOf = (r) => entries.filter((e) => e.state === "blocked" && byId[e.blocked_by] === r);
  const orphans = entries.filter((e) => e.state === "blocked" && !byId[e.blocked_by]);
  const pending = entries.filter((e) => e.state === "pending");
  const fixes = await Promise.all(rejected.map((r) => fixForm(r, groupOf(r))));
  const decided = all.filter((n) => n.decision);
  const open = all.filter((n) => !n.decision);
  const items = async (list) => Promise.all(list.map(async (e) => h("li", {class: "waiting", "data-seq": e.seq},
    ...(await heading(e.type, e.op, e.record_id, e.fields, e.at)))));
  dirty = false;
  show(
    h("h1", {}, t("outbox")),
    status(entries, last),
    h("div", {class: "actions wrap"},
      h("button", {type: "button", id: "sync-now", onclick: () => sync("manual")}, t("sync_now")),
      h("button", {type: "button", class: "ghost", id: "export", onclick: exported}, t("export")),
      h("button", {type: "button", class: "ghost danger", id: "logout", onclick: () => logout()}, t("logout"))),
    rejected.length ? [h("h2", {}, `${t("rejected")} (${rejected.length})`), ...fixes] : null,
    orphans.length ? [h("h2", {}, t("blocked")), h("ul", {class: "list", id: "blocked"}, await items(orphans))] : null,
    decided.length ? [h("h2", {}, `${t("decided")} (${decided.length})`),
      h("ul", {class: "list", id: "decided"}, await Promise.all(decided.map(notice)))] : null,
    open.length ? [h("h2", {}, `${t("conflicts")} (${open.length})`),
      h("ul", {class: "list", id: "conflicts"}, await Promise.all(open.map(notice)))] : null,
    h("h2", {}, `${t("waiting")} (${pending.length})`),
    pending.length ? h("ul", {class: "list", id: "waiting"}, await items(pending)) : h("p", {class: "muted", id: "waiting"}, t("none")));
  // Shown once: the next sync lets the decided notices go.
  await notices.markShown(decided.map((n) => n.conflict_id));
}

/** The export button: the file, then what it is (sealed: only the centre opens it). */
async function exported() {
  const file = await outbox.exportFile();
  toast(t(file.sealed ? "exported_sealed" : "exported"));
}

/** After a sync or a save: the whole screen again, or only its figures while a fix is typed. */
async function refresh() {
  if (location.hash !== HASH || document.body.dataset.view !== HASH) return;
  if (!dirty) return render();
  const block = document.getElementById("outbox-status");
  if (block) block.replaceWith(status(await outbox.all(), await getMeta("last_sync")));
  return null;
}

if (typeof window !== "undefined") {
  window.addEventListener("gw:sync-start", () => { syncing = true; refresh().catch(() => {}); });
  window.addEventListener("gw:synced", () => { syncing = false; refresh().catch(() => {}); });
  window.addEventListener("gw:outbox", () => { refresh().catch(() => {}); });
}
