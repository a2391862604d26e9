/**
 * The task list: newest first, a page at a time (`GET /api/v1/tasks`, cursor paging), filtered
 * by status and owner on the edge and by CLI and a search (a task id, or part of a repository
 * URL) in the page. It reloads its page every few seconds, so status changes appear unasked.
 * @module
 */
import { api } from "./api.js";
import { badge, field, h, notice, replace, time } from "./dom.js";

const REFRESH_MS = 3_000;
const STATUSES = ["queued", "leased", "running", "succeeded", "failed", "timed_out", "canceled"];
export const CLIS = ["demo", "claude", "aider", "codex", "gemini", "opencode", "script"];
const TASK_ID = /^tsk_[0-9a-hjkmnp-tv-z]{26}$/;

export function taskListPage(main, { session }) {
  const params = new URLSearchParams(location.search);
  const status = select("status", ["", ...STATUSES], params.get("status") ?? "");
  const cli = select("cli", ["", ...CLIS], params.get("cli") ?? "");
  const owner = h("input", { name: "owner", value: params.get("owner") ?? "", placeholder: "key_… or admin", autocomplete: "off" });
  const search = h("input", { type: "search", name: "q", value: params.get("q") ?? "", placeholder: "tsk_… or part of a repository URL" });
  const summary = h("p", { class: "muted", role: "status" });
  const body = h("tbody");
  const older = h("button", { type: "button", onclick: () => page(+1) }, "Older");
  const newer = h("button", { type: "button", onclick: () => page(-1) }, "Newer");
  const errors = h("div");
  // The cursors of the pages before this one, so "Newer" can go back.
  const cursors = [null];
  let nextCursor = null;
  let shown = "";
  let timer = null;
  let stopped = false;
  // Each load has a number: an answer to an older one (filters changed meanwhile) is dropped.
  let generation = 0;

  const filters = h(
    "form",
    { class: "filters", role: "search", onsubmit: (e) => (e.preventDefault(), restart()), onchange: () => restart() },
    field("Status", status),
    field("CLI", cli),
    session.admin ? field("Owner", owner) : null,
    field("Search", search),
    h("button", { type: "submit" }, "Apply"),
  );
  replace(
    main,
    h("div", { class: "title-row" }, h("h1", {}, "Tasks"), h("a", { class: "button", href: "/new" }, "New task")),
    filters,
    errors,
    summary,
    h(
      "div",
      { class: "scroll-x", tabindex: 0, role: "region", "aria-label": "Tasks" },
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, "Tasks, newest first"),
        h("thead", {}, h("tr", {}, ...["Task", "Status", "CLI", "Repository", "Prompt", "Created", "Updated"].map((t) => h("th", { scope: "col" }, t)))),
        body,
      ),
    ),
    h("div", { class: "pager" }, newer, older),
  );

  function restart() {
    const q = new URLSearchParams();
    for (const [k, v] of [
      ["status", status.value],
      ["cli", cli.value],
      ["owner", owner.value.trim()],
      ["q", search.value.trim()],
    ])
      if (v) q.set(k, v);
    history.replaceState(null, "", q.size ? `/tasks?${q}` : "/tasks");
    cursors.length = 1;
    load();
  }

  function page(step) {
    if (step > 0 && nextCursor) cursors.push(nextCursor);
    if (step < 0 && cursors.length > 1) cursors.pop();
    load();
  }

  async function load() {
    clearTimeout(timer);
    const mine = ++generation;
    try {
      const rows = await fetchRows();
      if (stopped || mine !== generation) return;
      replace(errors);
      const key = JSON.stringify(rows);
      // Redrawn only when something changed, so focus and selection survive the refresh.
      if (key !== shown) {
        shown = key;
        replace(body, rows.length ? rows.map(row) : h("tr", {}, h("td", { colspan: 7 }, "No tasks match.")));
      }
      summary.textContent = `${rows.length} task${rows.length === 1 ? "" : "s"} on this page; refreshed ${new Date().toLocaleTimeString()}.`;
      newer.disabled = cursors.length <= 1;
      older.disabled = !nextCursor;
    } catch (error) {
      if (stopped || mine !== generation) return;
      replace(errors, notice("error", error.message));
    }
    timer = setTimeout(load, REFRESH_MS);
  }

  async function fetchRows() {
    const q = search.value.trim();
    if (TASK_ID.test(q)) {
      nextCursor = null;
      try {
        const task = await api(`/tasks/${q}`);
        return [{ ...task, prompt_excerpt: task.prompt.slice(0, 200) }];
      } catch (error) {
        if (error.status === 404) return [];
        throw error;
      }
    }
    const query = new URLSearchParams({ limit: cli.value || q ? "200" : "50" });
    if (status.value) query.set("status", status.value);
    if (session.admin && owner.value.trim()) query.set("owner", owner.value.trim());
    const cursor = cursors.at(-1);
    if (cursor) query.set("cursor", cursor);
    const list = await api(`/tasks?${query}`);
    nextCursor = list.next_cursor;
    const needle = q.toLowerCase();
    return list.tasks.filter((t) => (!cli.value || t.cli === cli.value) && (!needle || t.repo.url.toLowerCase().includes(needle) || t.id.includes(needle)));
  }

  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function row(task) {
  return h(
    "tr",
    {},
    h("td", {}, h("a", { href: `/tasks/${task.id}`, class: "mono" }, task.id)),
    h("td", {}, badge(task.status)),
    h("td", {}, task.cli),
    h("td", { class: "mono wrap" }, task.repo.url, task.repo.ref ? ` @ ${task.repo.ref}` : ""),
    h("td", { class: "wrap" }, task.prompt_excerpt),
    h("td", {}, time(task.created_at)),
    h("td", {}, time(task.updated_at)),
  );
}

function select(name, options, value) {
  return h("select", { name }, ...options.map((o) => h("option", { value: o, selected: o === value }, o || "any")));
}
