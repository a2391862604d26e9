/**
 * Building the page: `h()` makes an element from a tag, properties and children, and every
 * text goes in as a text node, never as HTML, so nothing a task, a runner or a CLI wrote can
 * become markup. Also the few formatters every page shares.
 * @module
 */

/** Set as properties, for the live state of a control; every other key is an attribute. */
const PROPERTIES = new Set(["value", "checked", "selected", "disabled", "readOnly", "inputMode", "spellcheck"]);

/**
 * An element. `props`: attributes (`class`, `for`, `tabindex`, `aria-*`, …; `true` for a bare
 * attribute), `on<event>` as listeners, and `value`, `checked`, `selected`, `disabled`,
 * `readOnly`, `inputMode`, `spellcheck` as properties.
 * Children: nodes, strings (as text), arrays, and null/false (skipped).
 * @example h("a", { href: "/tasks" }, "Tasks")
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form field: the label, the control and an optional hint tied by `aria-describedby`. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintEl = hint ? h("small", { id: `${id}-hint`, class: "hint" }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

/** A status as a badge (colour and word: never colour alone). */
export function badge(status) {
  return h("span", { class: `badge s-${status}` }, status);
}

/** A time as the viewer's local time, with the ISO text kept for a tooltip. */
export function time(iso) {
  if (!iso) return h("span", {}, "—");
  const date = new Date(iso);
  return h("time", { datetime: iso, title: iso }, date.toLocaleString());
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1_000) return `${ms} ms`;
  const s = ms / 1_000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function usd(value) {
  return value === null || value === undefined ? "—" : `$${value.toFixed(value < 1 ? 4 : 2)}`;
}

/** A message in a live region, so screen readers hear it; `kind`: "error" or "info". */
export function notice(kind, text) {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export const TERMINAL = new Set(["succeeded", "failed", "timed_out", "canceled"]);
