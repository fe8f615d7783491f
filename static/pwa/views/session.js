// Log in (registers the device), choose or recover the PIN, unlock, log out / wipe.
import * as api from "../api.js";
import {getMeta, setMeta, wipe} from "../db.js";
import {t} from "../i18n.js";
import * as outbox from "../outbox.js";
import {sync} from "../sync.js";
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
    if (previous && previous.user?.username !== reg.user.username && (await outbox.all()).length === 0) await wipe();
    await setMeta("device", {device_id: reg.device_id, token: reg.token, user: reg.user});
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

/** Wipe only when nothing is left unsynced, or the outbox was exported to a file. */
export async function logout({force = false} = {}) {
  await sync("logout");
  const left = (await outbox.all()).length;
  const exported = await getMeta("exported");
  if (left && !force && !(exported && exported.count >= left)) {
    toast(t("logout_blocked"));
    return false;
  }
  await wipe();
  await mark(false);
  vault.lock();
  location.hash = "#/login";
  window.dispatchEvent(new HashChangeEvent("hashchange"));
  return true;
}

export function revoked() {
  show(h("h1", {}, t("revoked")),
    h("div", {class: "actions wrap"},
      h("button", {type: "button", id: "export", onclick: () => outbox.exportFile()}, t("export")),
      h("button", {type: "button", class: "danger", id: "wipe", onclick: () => logout()}, t("wipe"))));
}
