// What waits to sync, the last sync, rejected entries to fix, conflicts sent to the centre.
import {getMeta} from "../db.js";
import {msg, t} from "../i18n.js";
import * as outbox from "../outbox.js";
import {sync} from "../sync.js";
import {field, formValues, h, show, showErrors, toast} from "../ui.js";
import {logout} from "./session.js";

function fixForm(entry, group) {
  const form = h("form", {class: "card rejected", "data-seq": entry.seq, novalidate: true},
    h("p", {}, h("strong", {}, `${entry.type} · ${entry.op}`), ` #${entry.seq}`),
    ...(entry.errors || []).map((e) => field(`${e.field}`, e.field, {value: typeof entry.fields[e.field] === "string" ? entry.fields[e.field] : ""})),
    group.length ? h("p", {class: "muted"}, `${t("blocked")}: ${group.map((g) => `${g.type} #${g.seq}`).join(", ")}`) : null,
    h("button", {type: "submit"}, t("resend")));
  queueMicrotask(() => showErrors(form, entry.errors || [], msg));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    await outbox.resend([entry.seq, ...group.map((g) => g.seq)], formValues(form));
    toast(t("saved"));
    render();
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
    rejected.length ? [h("h2", {}, t("rejected")), ...rejected.map((r) => fixForm(r, groupOf(r)))] : null,
    orphans.length ? [h("h2", {}, t("blocked")), h("ul", {class: "list"}, orphans.map((e) => h("li", {}, `${e.type} #${e.seq}`)))] : null,
    conflicts.length ? [h("h2", {}, t("conflicts")), h("ul", {class: "list", id: "conflicts"}, conflicts.map((c) =>
      h("li", {class: "conflict"}, `${c.type} · ${c.fields.join(", ")} · ${c.conflict_id?.slice(0, 8)}`)))] : null);
}
