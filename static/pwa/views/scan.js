// Scan a door plate (BarcodeDetector, else jsQR loaded only now) or type its code.
import {msg, t} from "../i18n.js";
import * as store from "../store.js";
import {field, h, show, showErrors} from "../ui.js";
import {parseHouseCode, ValidationError} from "../validation.js";

let stream = null;

export function stop() {
  stream?.getTracks().forEach((track) => track.stop());
  stream = null;
}

/** The code in what a plate's QR says ("…/h/<code>") or what was typed. */
export function codeOf(text) {
  const match = /\/h\/([^/?#]+)/.exec(text);
  return parseHouseCode(match ? decodeURIComponent(match[1]) : text, "code");
}

export async function openCode(text, {scanned}) {
  const code = codeOf(text);
  const house = await store.houseByCode(code);
  if (!house) return null;
  location.hash = `#/house/${house.id}${scanned ? "?scanned=1" : ""}`;
  return house;
}

function loadJsQR() {
  if (self.jsQR) return Promise.resolve(self.jsQR);
  return new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = document.querySelector('meta[name="gw-jsqr"]').content;
    s.onload = () => resolve(self.jsQR);
    s.onerror = reject;
    document.head.append(s);
  });
}

async function decoder() {
  if ("BarcodeDetector" in self && (await BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
    const detector = new BarcodeDetector({formats: ["qr_code"]});
    return async (video) => (await detector.detect(video))[0]?.rawValue;
  }
  const jsQR = await loadJsQR();
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  return async (video) => {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    if (!canvas.width) return null;
    ctx.drawImage(video, 0, 0);
    return jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height)?.data;
  };
}

export function scanPage() {
  const status = h("p", {id: "scan-status", role: "status", "aria-live": "polite"}, t("scan_hint"));
  const video = h("video", {id: "camera", playsinline: true, muted: true, "aria-label": t("scan_hint")});
  const form = h("form", {class: "card", novalidate: true}, field(t("type_code"), "code", {autocomplete: "off", autocapitalize: "characters"}),
    h("button", {type: "submit", id: "open-code"}, t("open")));
  const report = (e) => {
    if (e instanceof ValidationError) showErrors(form, e.errors, msg);
    else status.textContent = t("plate_unknown");
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { if (!(await openCode(form.code.value, {scanned: false}))) showErrors(form, [{field: "code", zh: t("plate_unknown"), en: t("plate_unknown")}], msg); } catch (e) { report(e); }
  });
  const start = async () => {
    try {
      stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false});
    } catch { status.textContent = t("camera_refused"); return; }
    video.srcObject = stream;
    await video.play();
    const read = await decoder();
    const tick = async () => {
      if (!stream) return;
      const text = await read(video).catch(() => null);
      if (text) {
        try {
          if (await openCode(text, {scanned: true})) return stop();
          status.textContent = t("plate_unknown");
        } catch (e) { status.textContent = e.errors ? msg(e.errors[0]) : t("plate_unknown"); }
      }
      setTimeout(tick, 150);
    };
    tick();
  };
  show(h("h1", {}, t("scan")), h("button", {type: "button", id: "scan-start", onclick: start}, t("scan_start")), video, status, form);
}
