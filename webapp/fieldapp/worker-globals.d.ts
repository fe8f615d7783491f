// Types for `tsc -p tsconfig.worker.json`: worker.js is a service worker, a classic script.
// Declarations only; views.py serves worker.js alone, with the two constants prepended.

declare const VERSION: string;     // the precached files' hash
declare const PRECACHE: string[];  // their URLs

// TypeScript's webworker library types `self` as a WorkerGlobalScope; in this program it is
// always a ServiceWorkerGlobalScope, whose members and events worker.js uses are added here.
interface WorkerGlobalScope {
  readonly clients: Clients;
  readonly registration: ServiceWorkerRegistration;
  skipWaiting(): Promise<void>;
}
interface WorkerGlobalScopeEventMap {
  install: ExtendableEvent;
  activate: ExtendableEvent;
  fetch: FetchEvent;
  message: ExtendableMessageEvent;
  sync: SyncEvent;
}
interface SyncEvent extends ExtendableEvent {  // Background Sync (Chromium)
  readonly tag: string;
  readonly lastChance: boolean;
}
