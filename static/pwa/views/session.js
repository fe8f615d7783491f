// Log in (registers the device), choose or recover the PIN, unlock, log out / wipe.
import * as api from "../api.js";
import {getMeta, setMeta, wipe} from "../db.js";
import * as digits from "../digits.js";
import {t} from "../i18n.js";
import * as outbox from "../outbox.js";
import {resealOld} from "../reseal.js";
import * as rescueKey from "../rescuekey.js";
import {exclusive, sync} from "../sync.js";
import {field, formValues, h, show, showErrors, toast} from "../ui.js";
import * as vault from "../vault.js";

const MARKER = "/app/__registered";
const err = (f, key, n) => [{field: f, zh: t(key).replace("{n}", n), en: t(key).replace("{n}", n)}];
const pick = (e) => e.zh;
// What a refused login says: the server's codes for the phone's login (docs/sync.md §1).
const REFUSED = {login_failed: "login_failed", too_many_devices: "login_too_many_devices", role_no_device: "login_role_no_device",
  password_change_required: "login_password_change", too_many_attempts: "login_throttled"};
const refusal = (e) => REFUSED[e.code] || (e.status === 401 ? "login_failed" : "login_online");
/** The refusal's words, with how long to wait when the server says (429 `retry_after`). */
function refused(e) {
  const wait = Number(e.body?.retry_after);
  return wait > 0 && e.code === "too_many_attempts" ? err("password", "login_throttled_wait", wait) : err("password", refusal(e));
}

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

/** The login form: first login, a forgotten PIN (`recover`), a PIN destroyed after too many
 * wrong tries (`destroyed`), a token expired after 30 days without a sync (`expired`). The last
 * three keep the phone's data and outbox: the password opens the same data key. */
export async function login({recover = false, destroyed = false, expired = false} = {}) {
  const why = destroyed ? "pin_destroyed" : expired ? "device_expired" : null;
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("login")},
    why ? h("p", {role: "alert", id: "login-why", class: "error"}, t(why)) : null,
    h("p", {class: "muted"}, t("login_online")),
    field(t("username"), "username", {autocomplete: "username", required: true}),
    field(t("password"), "password", {kind: "password", autocomplete: "current-password", required: true}),
    ...pinFields(), h("button", {type: "submit", id: "login-go"}, t("login_go")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    if (!vault.pinOk(v.pin)) return showErrors(form, err("pin", "pin_format"), pick);
    if (v.pin !== v.pin2) return showErrors(form, err("pin2", "pin_mismatch"), pick);
    const previous = await getMeta("device");
    const same = previous?.user?.username === v.username;
    const oldToken = await previousToken(previous, v.password, same);
    // The same user logging in again on this phone: the server ends the old token as it issues
    // the new one, so the new login does not count against the cap of live phones. Never another
    // user's token (their queued work may still need it).
    let reg;
    try {
      reg = await api.register(v.username, v.password, same ? oldToken : null);
    } catch (e) {
      return showErrors(form, refused(e), pick);
    }
    if (previous && previous.user?.username !== reg.user.username) {
      // Another coordinator's phone: their records and outbox must never show under this login.
      if ((await outbox.all()).length) {
        await api.revokeToken(reg.token);  // the login just made is not used: no live token left behind
        return showErrors(form, err("username", "other_user_pending"), pick);
      }
      vault.lock();
      await wipe();
    }
    // The token is stored sealed, so it waits for the data key (setPin); meanwhile the device
    // has none, and a login cut short here asks for a login again (app.js).
    await setMeta("device", {device_id: reg.device_id, user: reg.user});
    // Logging in again (a forgotten PIN, another coordinator) made this phone a new device: the
    // old token is not kept anywhere now, so end it rather than leave it live on the server
    // (idempotent: `replaces` normally ended it already; this covers a server that did not).
    if (oldToken && previous.device_id !== reg.device_id) await api.revokeToken(oldToken);
    const kept = await vault.setPin(v.pin, v.password);
    await setMeta("device", {device_id: reg.device_id, user: reg.user, token: await vault.seal(reg.token)});
    // The key a rescue file is sealed to, from now on (a phone may be revoked before it syncs again).
    await rescueKey.keep(reg.rescue_key);
    if (!kept) {
      // A new data key: what was sealed under the old one cannot be opened; fetch everything again.
      await setMeta("cursor", null);
      await digits.reset();
    }
    await resealOld();
    await mark(true);
    navigator.storage?.persist?.();
    location.hash = "#/cells";
    sync("login").then(() => window.dispatchEvent(new HashChangeEvent("hashchange")));
  });
  const title = recover ? t("pin_forgot") : expired ? t("login_expired_title") : t("login");
  show(h("h1", {}, title), form);
}

/** The token this phone held, to be ended: opened with the data key, or on a locked phone with
 * the password-wrapped copy when the same user logs in again; another user's stays sealed. */
async function previousToken(previous, password, same) {
  const tok = previous?.token;
  if (!tok || typeof tok === "string") return tok || null;
  if (vault.unlocked()) return vault.open(tok).catch(() => null);
  return same ? vault.openWithPassword(tok, password) : null;
}

/** Unlocked: an upgraded phone's clear records are sealed first (reseal.js), then the app opens. */
async function opened() {
  try {
    await resealOld();
  } catch {
    // Locked again half-way (nothing was written: one transaction); the next unlock tries again.
  }
  window.dispatchEvent(new CustomEvent("gw:unlocked"));
}

export async function unlock() {
  if (await vault.pinDestroyed()) return login({destroyed: true});
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("unlock")},
    field(t("pin"), "pin", {kind: "password", inputmode: "numeric", autocomplete: "current-password", required: true}),
    h("button", {type: "submit", id: "unlock-go"}, t("unlock")),
    h("p", {}, h("a", {href: "#/recover", id: "forgot"}, t("pin_forgot"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const tried = await vault.unlock(formValues(form).pin);
    if (tried.ok) return tried.weak ? newPin() : opened();
    if (!tried.left) return login({destroyed: true});
    return showErrors(form, err("pin", "pin_wrong_left", tried.left), pick);
  });
  return show(h("h1", {}, t("locked_title")), form);
}

/** The right PIN, but shorter than the rule now asks (an upgraded phone): choose a new one. */
function newPin() {
  const form = h("form", {class: "card", novalidate: true, "aria-label": t("pin_weak_title")},
    h("p", {id: "pin-weak"}, t("pin_weak")), ...pinFields(), h("button", {type: "submit", id: "pin-go"}, t("pin_go")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    if (!vault.pinOk(v.pin)) return showErrors(form, err("pin", "pin_format"), pick);
    if (v.pin !== v.pin2) return showErrors(form, err("pin2", "pin_mismatch"), pick);
    await vault.setPin(v.pin);
    return opened();
  });
  show(h("h1", {}, t("pin_weak_title")), form);
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
    await (await import("../tiles.js")).wipe();  // the cells' map tiles go with the cells
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
    if (!vault.unlocked()) {
      // Any PIN that opens the key will do for this last export, even one shorter than the rule.
      const tried = await vault.unlock(formValues(form).pin, {weakOk: true});
      if (!tried.ok) return showErrors(form, tried.left ? err("pin", "pin_wrong_left", tried.left) : err("pin", "pin_destroyed"), pick);
    }
    const file = await outbox.exportFile();
    return toast(t(file.sealed ? "exported_sealed" : "exported"));
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
