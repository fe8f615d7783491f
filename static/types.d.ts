// Types for `tsc` (tsconfig.json) that the browser provides but TypeScript's DOM library does not
// describe, or describes too loosely for this code. Declarations only: nothing here is served to
// a browser or run.

// Libraries loaded by classic <script> tags (no type packages are installed for them).
interface Window {
  L?: any;       // Leaflet (/vendor/leaflet/leaflet.js)
  jsQR?: any;    // jsQR (/vendor/jsqr/...), loaded by views/scan.js when needed
  gridwalk?: {sync: Function, version: Function, checkForUpdate: Function, lock: () => void};  // app.js, for tests
}

// <meta name="gw-..."> carries the server's settings to the scripts: a selector that starts with
// "meta[" finds a <meta> element, so its `content` can be read.
// Likewise "button[" (a form's `button[type=submit]`) finds a <button>. (A selector that goes on
// to a descendant, "button[x] span", would be typed wrongly: none here does.)
interface ParentNode {
  querySelector<S extends `meta[${string}]`>(selectors: S): HTMLMetaElement | null;
  querySelector<S extends `button[${string}]`>(selectors: S): HTMLButtonElement | null;
}

// The field app's own events (window.dispatchEvent), with what they carry.
interface GwSynced {
  ok?: boolean; skipped?: string; at?: string; reason?: string; error?: string; status?: number;
  pulled?: number; pushed?: number; conflicts?: number; rejected?: number; decided?: number;
  [more: string]: any;
}
interface WindowEventMap {
  "gw:synced": CustomEvent<GwSynced>;
  "gw:sync-start": CustomEvent<{reason: string}>;
}

// Not (yet) in TypeScript's DOM library; the code checks each exists before using it.
interface Navigator {
  userAgentData?: {platform: string};  // User-Agent Client Hints (Chromium)
}
interface ServiceWorkerRegistration {
  sync?: {register(tag: string): Promise<void>};  // Background Sync (Chromium)
}
declare class BarcodeDetector {  // Shape Detection API (Chromium on Android)
  constructor(options?: {formats: string[]});
  static getSupportedFormats(): Promise<string[]>;
  detect(source: ImageBitmapSource): Promise<Array<{rawValue: string}>>;
}
