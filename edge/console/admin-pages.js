/**
 * Admin pages that read: the runners seen lately, by pool (`GET /api/v1/runners`, refreshed
 * every few seconds), and the audit log (`GET /api/v1/audit`, filtered, older pages on demand).
 * @module
 */
import { api } from "./api.js";
import { badge, field, h, notice, replace, time } from "./dom.js";

const RUNNERS_REFRESH_MS = 5_000;

function table(caption, headings, rows) {
  return h(
    "div",
    { class: "scroll-x", tabindex: 0, role: "region", "aria-label": caption },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, ...headings.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, ...rows),
    ),
  );
}

export function adminRunnersPage(main) {
  const body = h("div");
  let timer = null;
  let stopped = false;
  replace(
    main,
    h("h1", {}, "Runners"),
    h("p", { class: "muted" }, "Runners that asked for work lately, by pool; a runner not seen for a while drops off."),
    body,
  );

  async function load() {
    try {
      const runners = [];
      let cursor = null;
      do {
        const page = await api(`/runners?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
        runners.push(...page.runners);
        cursor = page.next_cursor;
      } while (cursor && runners.length < 1_000);
      if (stopped) return;
      replace(
        body,
        runners.length
          ? table(
              "Runners",
              ["Runner", "Pool", "CLIs", "Labels", "Load", "Version", "Last seen"],
              runners.map((r) =>
                h(
                  "tr",
                  {},
                  h("td", { class: "mono" }, r.id),
                  h("td", {}, r.pool),
                  h("td", {}, r.clis.join(", ")),
                  h("td", {}, r.labels.join(", ") || "—"),
                  h("td", {}, `${r.running} / ${r.capacity}`),
                  h("td", {}, r.version ?? "—"),
                  h("td", {}, time(r.last_seen_at)),
                ),
              ),
            )
          : h("p", {}, "No runner has asked for work lately."),
      );
    } catch (error) {
      if (!stopped) replace(body, notice("error", error.message));
    }
    if (!stopped) timer = setTimeout(load, RUNNERS_REFRESH_MS);
  }
  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

export function adminAuditPage(main) {
  const actor = h("input", { name: "actor", autocomplete: "off", placeholder: "key_…, admin, runner:…" });
  const action = h("input", { name: "action", autocomplete: "off", placeholder: "task.create, key.revoke, …" });
  const target = h("input", { name: "target", autocomplete: "off", placeholder: "tsk_…, key_…" });
  const body = h("tbody");
  const errors = h("div");
  const more = h("button", { type: "button", onclick: () => load(false) }, "Older entries");
  let cursor = null;

  replace(
    main,
    h("h1", {}, "Audit log"),
    h(
      "form",
      { class: "filters", role: "search", onsubmit: (e) => (e.preventDefault(), load(true)) },
      field("Actor", actor),
      field("Action", action),
      field("Target", target),
      h("button", { type: "submit" }, "Apply"),
    ),
    errors,
    table("Audit entries, newest first", ["Time", "Actor", "Action", "Target", "Outcome", "Address"], []),
    more,
  );
  main.querySelector("tbody").replaceWith(body);

  async function load(fresh) {
    if (fresh) cursor = null;
    const query = new URLSearchParams({ limit: "100" });
    for (const [k, input] of [
      ["actor", actor],
      ["action", action],
      ["target", target],
    ])
      if (input.value.trim()) query.set(k, input.value.trim());
    if (cursor) query.set("cursor", cursor);
    try {
      const page = await api(`/audit?${query}`);
      replace(errors);
      const rows = page.entries.map((e) =>
        h(
          "tr",
          {},
          h("td", {}, time(e.at)),
          h("td", { class: "mono" }, e.actor),
          h("td", {}, e.action),
          h("td", { class: "mono" }, e.target ?? "—"),
          h("td", {}, badge(e.outcome), e.error_code ? ` ${e.error_code}` : ""),
          h("td", {}, e.client_ip ?? "—"),
        ),
      );
      if (fresh) replace(body, rows.length ? rows : h("tr", {}, h("td", { colspan: 6 }, "No entries match.")));
      else body.append(...rows);
      cursor = page.next_cursor;
      more.disabled = !cursor;
    } catch (error) {
      replace(errors, notice("error", error.field ? `${error.field}: ${error.message}` : error.message));
    }
  }
  load(true);
}
