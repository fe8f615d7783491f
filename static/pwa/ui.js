// Small DOM helpers: build elements without innerHTML (nothing typed is ever parsed as HTML).
import {DAYS} from "./validation.js";

/**
 * An element: `attrs` are attributes, `on…` listeners, or properties (a non-string value of a
 * name the element has); false or null leaves one out. Children are nodes or text, nested arrays
 * flattened, null and false left out.
 * @template {string} K
 * @param {K} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...any} children
 * @returns {K extends keyof HTMLElementTagNameMap ? HTMLElementTagNameMap[K] : HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return /** @type {any} */ (el);  // of the type @returns names: createElement(tag) is typed loosely
}

export function show(...nodes) {
  const main = document.getElementById("view");
  main.replaceChildren(...nodes.flat(2).filter((n) => n != null && n !== false));
  main.focus({preventScroll: true});
  window.scrollTo(0, 0);
}

let toastTimer;
export function toast(text) {
  let box = document.getElementById("toast");
  if (!box) {
    box = h("div", {id: "toast", class: "toast", role: "status", "aria-live": "polite"});
    document.body.append(box);
  }
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
}

let fieldSeq = 0;
/**
 * A labelled input; `kind` is "select" (with options), "textarea", or an input type. Any other
 * option is an attribute of the control (`maxlength`, `autocomplete`, `inputmode`, …).
 * @param {string} labelText
 * @param {string} name
 * @param {{kind?: string, value?: string | boolean | null, options?: string[][],
 *   required?: boolean, [attr: string]: any}} [opts]
 */
export function field(labelText, name, {kind = "text", value = "", options, required, ...rest} = {}) {
  const id = `f-${name}-${++fieldSeq}`;
  let control;
  if (kind === "select") {
    control = h("select", {id, name, required}, options.map(([v, l]) => h("option", {value: v, selected: v === value}, l)));
  } else if (kind === "checkbox") {
    control = h("input", {id, name, type: "checkbox", checked: Boolean(value), ...rest});
    return h("div", {class: "field check"}, control, h("label", {for: id}, labelText));
  } else {
    // A day's picker offers only the days the registry takes (validation.js DAYS).
    const days = kind === "date" ? {min: DAYS[0], max: DAYS[1]} : {};
    control = h(kind === "textarea" ? "textarea" : "input", {id, name, type: kind === "textarea" ? null : kind, required, ...days, ...rest});
    control.value = String(value ?? "");
  }
  return h("div", {class: "field"}, h("label", {for: id}, labelText), control,
    h("p", {class: "error", id: `${id}-err`, "data-error-for": name, hidden: true}));
}

/** Show errors [{field, zh, en}] at their fields (message text chosen by `pick`). */
export function showErrors(form, errors, pick) {
  form.querySelectorAll("[data-error-for]").forEach((p) => { p.hidden = true; p.textContent = ""; });
  const loose = [];
  for (const e of errors) {
    const p = form.querySelector(`[data-error-for="${e.field}"]`);
    if (p) {
      p.hidden = false;
      p.textContent = pick(e);
      p.previousElementSibling?.setAttribute("aria-describedby", p.id);
    } else loose.push(pick(e));
  }
  if (loose.length) toast(loose.join("；"));
}

export const formValues = (form) => Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v).trim()]));
export {newId as uuid} from "./ids.js";
