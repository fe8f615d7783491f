// Registers the root-scope service worker and offers updates; the user decides when.
// Until a worker is active the app would not open with no signal, and a failed first install
// (one file of the shell not fetched on flaky Wi-Fi, or /sw.js itself) is not tried again by
// the browser: so the registration is tried again here, and the shell says which it is.
import {t} from "./i18n.js";

// Seconds before each new try while no worker is active: soon at first, then every minute
// for as long as the app stays open. Coming back online tries at once.
const RETRY_S = [2, 5, 15, 30, 60];

let registration = null;
let accepted = false;
let tries = 0;
let retryTimer;
const watched = new WeakSet();

function offer(worker) {
  const bar = document.getElementById("update");
  document.getElementById("update-text").textContent = t("update_ready");
  const go = document.getElementById("update-go");
  go.textContent = t("update_go");
  go.onclick = () => { accepted = true; worker.postMessage({type: "skip-waiting"}); };
  bar.hidden = false;
}

/** Whether the app opens with no signal: a worker is active for the scope (it controls this
 * page, or will control the next one). */
export function offlineReady() {
  return Boolean(navigator.serviceWorker?.controller || registration?.active);
}

/** The shell's line that tells the coordinator whether the app opens offline. */
export function showReadiness() {
  const line = document.getElementById("offline-ready");
  if (!line) return;
  const ready = offlineReady();
  line.textContent = t(!("serviceWorker" in navigator) ? "offline_unsupported" : ready ? "offline_ready" : "offline_not_ready");
  line.className = ready ? "offline-ready on" : "offline-ready off";
}

/** @param {ServiceWorker | null} worker */
function follow(worker) {
  if (!worker || watched.has(worker)) return;
  watched.add(worker);
  worker.addEventListener("statechange", () => {
    if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
    showReadiness();  // "activated": ready; "redundant" (a failed install): the next try is due
  });
}

/** @param {ServiceWorkerRegistration} reg */
function watch(reg) {
  if (watched.has(reg)) return;
  watched.add(reg);
  reg.addEventListener("updatefound", () => follow(reg.installing));
  follow(reg.installing);
}

async function attempt() {
  tries += 1;
  // A failed first install drops the registration: register() again, not update(), makes a new one.
  registration = await navigator.serviceWorker.register("/sw.js", {scope: "/", updateViaCache: "none"});
  watch(registration);
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  showReadiness();
}

/** Seconds until the next try: longer the more tries were made. */
const backoff = () => RETRY_S[Math.max(0, Math.min(tries, RETRY_S.length) - 1)];

function later() {
  clearTimeout(retryTimer);
  if (!offlineReady()) retryTimer = setTimeout(retry, backoff() * 1000);
}

/** Try again unless a worker is active; an install under way is left to finish or fail. */
async function retry() {
  clearTimeout(retryTimer);
  if (!offlineReady() && !registration?.installing && !registration?.waiting) await attempt().catch(showReadiness);
  later();
}

export async function register() {
  if (!("serviceWorker" in navigator)) return null;
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    showReadiness();
    // Only after the user accepted: the first install also claims, but then nothing was waiting.
    if (reloading || !accepted) return;
    reloading = true;
    location.reload();
  });
  window.addEventListener("online", () => { tries = 0; retry(); });
  await attempt().catch(showReadiness);
  later();
  return registration;
}

export const checkForUpdate = () => registration?.update();

/** The version of the worker that controls this page. */
export function version() {
  const worker = navigator.serviceWorker?.controller;
  if (!worker) return Promise.resolve(null);
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (ev) => resolve(ev.data.version);
    worker.postMessage({type: "version"}, [channel.port2]);
  });
}
