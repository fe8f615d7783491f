// Log in (registers the device), choose or recover the PIN, unlock, log out / wipe.
import * as api from "../api.js";
import {getMeta, setMeta, wipe} from "../db.js";
import {t} from "../i18n.js";
import * as outbox from "../outbox.js";
import {exclusive, sync} from "../sync.js";
import {field, formValues, h, show, showErrors, toast} from "../ui.js";
import * as vault from "../vault.js";

const MARKER = "/app/__registered";
const err = (f, key) => [{field: f, zh: t(key), en: t(key)}];
const pick = (e) => e.zh;

async function mark(on) {
  // Tells the service worker this phone is registered, so plate links open in the app.
  const cache = await caches.open("gridwalk-device");
  if (on) await cache.put(MARKER, new Response("1"));
  else await caches.delete("gridwalk-device");
}

function pinFields() {
  return [field(t("pin_new"), "pin", {kind: "password", inputmode: "numeric", autocomplete: "new-password", required: true}),
    field(t("pin_again"), "pin2", {kind: "password", inputmode: "numeric", autocomplete: "new-password", required: true})];
}

export async function login({recover = false} = {}) {
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("login")},
    h("p", {class: "muted"}, t("login_online")),
    field(t("username"), "username", {autocomplete: "username", required: true}),
    field(t("password"), "password", {kind: "password", autocomplete: "current-password", required: true}),
    ...pinFields(), h("button", {type: "submit", id: "login-go"}, t("login_go")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    if (!/^[0-9]{4,8}$/.test(v.pin)) return showErrors(form, err("pin", "pin_format"), pick);
    if (v.pin !== v.pin2) return showErrors(form, err("pin2", "pin_mismatch"), pick);
    let reg;
    try {
      reg = await api.register(v.username, v.password);
    } catch (e) {
      return showErrors(form, err("password", e.status === 401 ? "login_failed" : "login_online"), pick);
    }
    const previous = await getMeta("device");
    if (previous && previous.user?.username !== reg.user.username) {
      // Another coordinator's phone: their records and outbox must never show under this login.
      if ((await outbox.all()).length) {
        await api.revokeToken(reg.token);  // the login just made is not used: no live token left behind
        return showErrors(form, err("username", "other_user_pending"), pick);
      }
      vault.lock();
      await wipe();
    }
    await setMeta("device", {device_id: reg.device_id, token: reg.token, user: reg.user});
    // Logging in again (a forgotten PIN, another coordinator) made this phone a new device: the
    // old token is not kept anywhere now, so end it rather than leave it live on the server.
    if (previous?.token && previous.device_id !== reg.device_id) await api.revokeToken(previous.token);
    const kept = await vault.setPin(v.pin, v.password);
    if (!kept) await setMeta("cursor", null);  // a new data key: fetch everything again
    await mark(true);
    navigator.storage?.persist?.();
    location.hash = "#/cells";
    sync("login").then(() => window.dispatchEvent(new HashChangeEvent("hashchange")));
  });
  show(h("h1", {}, recover ? t("pin_forgot") : t("login")), form);
}

export function unlock() {
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("unlock")},
    field(t("pin"), "pin", {kind: "password", inputmode: "numeric", autocomplete: "current-password", required: true}),
    h("button", {type: "submit", id: "unlock-go"}, t("unlock")),
    h("p", {}, h("a", {href: "#/recover", id: "forgot"}, t("pin_forgot"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!(await vault.unlock(formValues(form).pin))) return showErrors(form, err("pin", "pin_wrong"), pick);
    window.dispatchEvent(new CustomEvent("gw:unlocked"));
  });
  show(h("h1", {}, t("locked_title")), form);
}

/** Wipe only when nothing is left unsynced, or all of it is in an exported file. */
export async function logout({force = false} = {}) {
  await sync("logout");
  // Checked and wiped under the sync lock: a sync starting in between would refill the database.
  const wiped = await exclusive(async () => {
    const left = await outbox.all();
    const exported = await getMeta("exported");
    const inFile = (e) => exported && e.seq <= (exported.last_seq ?? 0);
    if (left.length && !force && !left.every(inFile)) return false;
    await api.revokeSelf();  // nothing left to send with this token: end it on the server too
    await wipe();
    return true;
  });
  if (!wiped) {
    toast(t("logout_blocked"));
    return false;
  }
  await mark(false);
  vault.lock();
  location.hash = "#/login";
  window.dispatchEvent(new HashChangeEvent("hashchange"));
  return true;
}

/** The centre revoked this phone: nothing more syncs; hand the outbox over as a file, then wipe.
 * The file needs the ID numbers decrypted, so a locked phone asks for the PIN first. */
export async function revoked() {
  const waiting = (await outbox.all()).length;
  const pin = vault.unlocked() ? null
    : field(t("pin"), "pin", {kind: "password", inputmode: "numeric", autocomplete: "current-password"});
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("export")},
    h("p", {id: "revoked-pending"}, `${t("pending")}: ${waiting}`), pin,
    h("div", {class: "actions wrap"},
      h("button", {type: "submit", id: "export"}, t("export")),
      h("button", {type: "button", class: "danger", id: "wipe", onclick: () => logout()}, t("wipe"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!vault.unlocked() && !(await vault.unlock(formValues(form).pin))) return showErrors(form, err("pin", "pin_wrong"), pick);
    await outbox.exportFile();
    return toast(t("exported"));
  });
  show(h("h1", {}, t("revoked")), form);
}

/** A newer version of the app upgraded the database: this tab's connection is closed (see db.js).
 * Say so and let the coordinator reload when ready, so a form being typed is not thrown away. */
function outdated() {
  if (document.getElementById("db-outdated")) return;
  document.body.prepend(h("div", {class: "update", id: "db-outdated", role: "alert"},
    h("span", {}, t("db_reload")), h("button", {type: "button", onclick: () => location.reload()}, t("reload"))));
}
// Listened for here (not in app.js) because this is the view that owns the session's end states.
window.addEventListener("gw:db-closed", outdated);
