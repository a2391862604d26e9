/**
 * A virtualised list of text rows: only the rows in view (and a few either side) are in the
 * document, positioned inside a spacer as tall as all of them, so a log of millions of lines
 * scrolls as freely as a short one. Rows are one line each (`white-space: pre`, fixed height);
 * a row with `fold` is a button that unfolds its entry. While the view is scrolled to the end
 * it follows new rows; scrolled elsewhere, it stays put.
 * @module
 */
import { h } from "./dom.js";

/** Rows drawn beyond each edge of the view, so a quick scroll shows no gap. */
const OVERSCAN_ROWS = 20;

export class LogView {
  /**
   * @param {{ label: string, rowHeight?: number, onToggle?: (entry: object) => void, empty?: string }} options
   */
  constructor({ label, rowHeight = 18, onToggle = () => {}, empty = "Nothing yet." }) {
    this.rowHeight = rowHeight;
    this.onToggle = onToggle;
    this.rows = [];
    this.empty = empty;
    this.spacer = h("div", { class: "log-spacer" });
    this.window = h("div", { class: "log-window" });
    this.spacer.append(this.window);
    this.el = h("div", { class: "log", role: "log", tabindex: 0, "aria-label": label, "aria-live": "off" }, this.spacer);
    this.following = true;
    this.scheduled = false;
    this.el.addEventListener("scroll", () => {
      this.following = this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - this.rowHeight;
      this.schedule();
    });
    this.draw();
  }

  /** Shows these rows. */
  setRows(rows) {
    this.source = null;
    this.rows = rows;
    this.schedule();
  }

  /**
   * Shows the rows `source()` returns, asked again only on the frame after `changed()`: a burst
   * of stream messages costs one rebuild, not one each.
   */
  setSource(source) {
    this.source = source;
    this.changed();
  }

  /** The rows changed: redraw on the next frame, once however many changes came first. */
  changed() {
    this.stale = true;
    this.schedule();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  draw() {
    if (this.stale && this.source) this.rows = this.source();
    this.stale = false;
    const total = this.rows.length;
    this.spacer.style.height = `${Math.max(total, 1) * this.rowHeight}px`;
    if (this.following) this.el.scrollTop = this.el.scrollHeight;
    const viewRows = Math.ceil((this.el.clientHeight || 600) / this.rowHeight);
    const first = Math.max(0, Math.floor(this.el.scrollTop / this.rowHeight) - OVERSCAN_ROWS);
    const last = Math.min(total, first + viewRows + 2 * OVERSCAN_ROWS);
    this.window.style.transform = `translateY(${first * this.rowHeight}px)`;
    const children = [];
    if (total === 0) children.push(h("div", { class: "log-row muted" }, this.empty));
    for (let i = first; i < last; i++) children.push(this.drawRow(this.rows[i]));
    this.window.replaceChildren(...children);
    // A fold button just pressed is drawn anew: keep the keyboard on it.
    if (this.focusEntry) {
      const button = children.find((el) => el.entry === this.focusEntry);
      this.focusEntry = null;
      button?.focus();
    }
  }

  drawRow(row) {
    if (!row.fold) return h("div", { class: `log-row ${row.cls ?? ""}` }, row.text || " ");
    const entry = row.fold;
    const button = h(
      "button",
      {
        type: "button",
        class: `log-row fold ${row.cls ?? ""}`,
        "aria-expanded": String(entry.open),
        onclick: () => {
          this.focusEntry = entry;
          this.onToggle(entry);
        },
      },
      row.text,
    );
    button.entry = entry;
    return button;
  }
}
