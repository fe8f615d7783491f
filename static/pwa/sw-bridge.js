// Registers the root-scope service worker and offers updates; the user decides when.
import {t} from "./i18n.js";

let registration = null;
let accepted = false;

function offer(worker) {
  const bar = document.getElementById("update");
  document.getElementById("update-text").textContent = t("update_ready");
  const go = document.getElementById("update-go");
  go.textContent = t("update_go");
  go.onclick = () => { accepted = true; worker.postMessage({type: "skip-waiting"}); };
  bar.hidden = false;
}

export async function register() {
  if (!("serviceWorker" in navigator)) return null;
  registration = await navigator.serviceWorker.register("/sw.js", {scope: "/", updateViaCache: "none"});
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
    });
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    // Only after the user accepted: the first install also claims, but then nothing was waiting.
    if (reloading || !accepted) return;
    reloading = true;
    location.reload();
  });
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
