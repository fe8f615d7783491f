// The field app's service worker (served at /sw.js, scope "/"; VERSION and PRECACHE are
// prepended by the server from the precached files' hashes).
// It answers only the app's own URLs; every other page of the site goes to the network as if
// the worker were not there, so the console behaves the same on a phone that has the app.
const CACHE = `gridwalk-shell-${VERSION}`;
const PREFIX = "gridwalk-shell-";
const MARKER = "/app/__registered";  // put by the app once a device is registered

self.addEventListener("install", (event) => {
  // No skipWaiting: a new version waits until the user accepts it (message "skip-waiting").
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map((u) => new Request(u, {cache: "reload"})))));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "skip-waiting") self.skipWaiting();
  if (data.type === "version" && event.ports[0]) event.ports[0].postMessage({version: VERSION});
});

function ours(url) {
  return url.pathname.startsWith("/app/") || url.pathname.startsWith("/static/pwa/") ||
    url.pathname.startsWith("/vendor/") || url.pathname === "/app";
}

async function shellFor(url) {
  const cache = await caches.open(CACHE);
  return (await cache.match("/app/")) || fetch("/app/");
}

async function registered() {
  return Boolean(await caches.match(MARKER));
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.startsWith("/h/")) {
    // A plate scanned with the phone's own camera: on a registered phone, open it in the app.
    event.respondWith(registered().then((yes) => (yes ? shellFor(url) : fetch(request))));
    return;
  }
  if (!ours(url) || url.pathname === MARKER) return;
  if (request.mode === "navigate") {
    event.respondWith(shellFor(url));
    return;
  }
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    const hit = await cache.match(request, {ignoreSearch: true});
    if (hit) return hit;
    const response = await fetch(request);
    // Only successful same-origin answers of the app's own folders are kept.
    if (response.ok && response.type === "basic") cache.put(request, response.clone());
    return response;
  }));
});

self.addEventListener("sync", (event) => {
  // Background Sync (Chromium): wake an open tab to sync; with none open, the next start syncs.
  if (event.tag === "gridwalk-sync") {
    event.waitUntil(self.clients.matchAll({type: "window"}).then((all) => {
      all.forEach((c) => c.postMessage({type: "sync"}));
    }));
  }
});
