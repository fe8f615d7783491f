// What waits to sync, the last sync, rejected entries to fix, conflicts sent to the centre.
import {db, getMeta} from "../db.js";
import {msg, t} from "../i18n.js";
import * as outbox from "../outbox.js";
import {sync} from "../sync.js";
import {field, formValues, h, show, showErrors, toast} from "../ui.js";
import {parseMobile, parsePersonId, ValidationError} from "../validation.js";
import {open} from "../vault.js";
import {logout} from "./session.js";

/** The same checks as the form that made the entry: a fix the server would refuse is refused
 * here, with the same message. Returns the wire fixes and what they change in the local record
 * (plain values: outbox.resend seals a person's). */
async function checkFix(entry, values) {
  const errors = [], fixes = {}, local = {};
  const record = await (await db()).get(entry.type, entry.record_id);
  for (const [name, raw] of Object.entries(values)) {
    try {
      if (name === "id_number") {
        const sent = typeof entry.fields.id_type === "string" ? entry.fields.id_type : null;
        const id = parsePersonId(raw, values.id_type || sent || record?.id_type || "resident");
        fixes.id_number = id.number;
        Object.assign(local, {id_number: id.number}, id.sex ? {sex: id.sex} : {}, id.birth_date ? {birth_date: id.birth_date} : {});
      } else if (name === "phone" && raw) {
        fixes.phone = local.phone = parseMobile(raw);
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

async function shown(value) {
  // The refused value, as the coordinator typed it (an ID number is kept encrypted).
  if (typeof value === "string") return value;
  if (value?.$enc) return open(value.$enc).catch(() => "");
  return "";
}

async function fixForm(entry, group) {
  const inputs = [];
  for (const e of entry.errors || []) inputs.push(field(t(e.field), e.field, {value: await shown(entry.fields[e.field]), autocomplete: "off"}));
  const form = h("form", {class: "card rejected", "data-seq": entry.seq, novalidate: true, "aria-label": `${t("rejected")} #${entry.seq}`},
    h("p", {}, h("strong", {}, `${entry.type} · ${entry.op}`), ` #${entry.seq}`),
    ...inputs,
    group.length ? h("p", {class: "muted"}, `${t("blocked")}: ${group.map((g) => `${g.type} #${g.seq}`).join(", ")}`) : null,
    h("button", {type: "submit"}, t("resend")));
  queueMicrotask(() => showErrors(form, entry.errors || [], msg));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const {errors, fixes, local} = await checkFix(entry, formValues(form));
    if (errors.length) return showErrors(form, errors, msg);
    await outbox.resend([entry.seq, ...group.map((g) => g.seq)], fixes, local);
    toast(t("saved"));
    return render();
  });
  return form;
}

export async function render() {
  const entries = await outbox.all();
  const last = await getMeta("last_sync");
  const conflicts = (await getMeta("conflicts")) || [];
  const pending = entries.filter((e) => e.state === "pending");
  const rejected = entries.filter((e) => e.state === "rejected");
  const byId = Object.fromEntries(entries.map((e) => [e.id, e]));
  const groupOf = (r) => entries.filter((e) => e.state === "blocked" && byId[e.blocked_by] === r);
  const orphans = entries.filter((e) => e.state === "blocked" && !byId[e.blocked_by]);
  const fixes = await Promise.all(rejected.map((r) => fixForm(r, groupOf(r))));
  show(
    h("h1", {}, t("outbox")),
    h("dl", {class: "stats"},
      h("dt", {}, t("pending")), h("dd", {id: "pending-count"}, String(pending.length)),
      h("dt", {}, t("rejected")), h("dd", {id: "rejected-count"}, String(rejected.length)),
      h("dt", {}, t("last_sync")), h("dd", {id: "last-sync"}, last ? `${new Date(last.at).toLocaleString()} · ${last.ok ? t("sync_ok") : `${t("sync_failed")} (${last.error})`}` : t("never"))),
    h("div", {class: "actions wrap"},
      h("button", {type: "button", id: "sync-now", onclick: async () => { await sync("manual"); render(); }}, t("sync_now")),
      h("button", {type: "button", class: "ghost", id: "export", onclick: () => outbox.exportFile()}, t("export")),
      h("button", {type: "button", class: "ghost danger", id: "logout", onclick: () => logout()}, t("logout"))),
    rejected.length ? [h("h2", {}, t("rejected")), ...fixes] : null,
    orphans.length ? [h("h2", {}, t("blocked")), h("ul", {class: "list"}, orphans.map((e) => h("li", {}, `${e.type} #${e.seq}`)))] : null,
    conflicts.length ? [h("h2", {}, t("conflicts")), h("ul", {class: "list", id: "conflicts"}, conflicts.map((c) =>
      h("li", {class: "conflict"}, `${c.type} · ${c.fields.join(", ")} · ${c.conflict_id?.slice(0, 8)}`)))] : null);
}
