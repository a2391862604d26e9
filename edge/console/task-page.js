/**
 * One task: its header and cancel button, its iterations as tabs — each with its status
 * timeline, its live log (rendered agent events or the raw output) and its result — a
 * follow-up form once it has ended, and its webhook deliveries. The log comes from the task's
 * stream; the task itself is read again whenever its status changes.
 * @module
 */
import { api } from "./api.js";
import { deliveriesView } from "./deliveries-view.js";
import { badge, field, h, notice, replace, TERMINAL, time } from "./dom.js";
import { LogModel } from "./event-rows.js";
import { LogView } from "./log-view.js";
import { resultView } from "./result-view.js";
import { TaskStream } from "./task-stream.js";

export function taskPage(main, { params }) {
  const taskId = decodeURIComponent(params[0]);
  const model = new LogModel();
  const view = new LogView({ label: "Task log", onToggle: (entry) => (model.toggle(entry), showLog()), empty: "Waiting for the first event…" });
  /** Per iteration: its status events and its result event's result (with its patch). */
  const statuses = new Map();
  const results = new Map();
  const deliveries = deliveriesView(taskId);
  const header = h("div");
  const tabs = h("div", { role: "tablist", "aria-label": "Iterations", class: "tabs" });
  const timeline = h("ol", { class: "timeline", "aria-label": "Status timeline" });
  const resultEl = h("div");
  const connection = h("span", { class: "muted", role: "status" });
  const raw = h("input", { type: "checkbox", id: "raw-toggle", onchange: () => showLog() });
  const panel = h(
    "div",
    { role: "tabpanel", id: "iteration-panel", tabindex: 0 },
    h("h2", {}, "Timeline"),
    timeline,
    h("div", { class: "log-bar" }, h("h2", {}, "Log"), h("div", { class: "check" }, raw, h("label", { for: "raw-toggle" }, "Raw output")), connection),
    view.el,
    resultEl,
  );
  const followUp = h("div");
  let task = null;
  let selected = 0;
  let stopped = false;
  let reading = false;
  let readAgain = false;
  let stream = null;
  let poll = null;

  replace(main, header, tabs, panel, followUp, deliveries.el);
  replace(header, h("h1", {}, "Task ", h("code", {}, taskId)));

  function showLog() {
    view.changed();
  }
  view.setSource(() => model.rows({ iteration: selected, raw: raw.checked }));

  /** Reads the task again; a change while a read is out asks for one more read after it. */
  async function refresh() {
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    try {
      const fresh = await api(`/tasks/${taskId}`);
      if (stopped) return;
      const newIteration = task && fresh.iteration !== task.iteration;
      const followed = selected === 0 || selected === task?.iteration;
      task = fresh;
      if (followed || newIteration) selected = task.iteration;
      draw();
      deliveries.refresh();
    } catch (error) {
      if (error.status === 404) replace(main, h("h1", {}, "Task not found"), notice("error", error.message));
      else header.append(notice("error", error.message));
    } finally {
      reading = false;
      if (readAgain && !stopped) {
        readAgain = false;
        refresh();
      }
    }
  }

  function draw() {
    drawHeader();
    drawTabs();
    drawIteration();
    drawFollowUp();
    showLog();
  }

  function drawHeader() {
    const ended = TERMINAL.has(task.status);
    const cancel = h(
      "button",
      { type: "button", class: "danger", onclick: onCancel, disabled: task.cancel_requested },
      task.cancel_requested ? "Cancel requested" : "Cancel task",
    );
    replace(
      header,
      h("div", { class: "title-row" }, h("h1", {}, "Task ", h("code", {}, task.id)), badge(task.status), ended ? null : cancel),
      h(
        "dl",
        { class: "facts" },
        ...[
          ["Repository", `${task.repo.url}${task.repo.ref ? ` @ ${task.repo.ref}` : ""}`],
          ["CLI", `${task.cli}${task.model ? ` (${task.model})` : ""}`],
          ["Created", time(task.created_at)],
          ["Runner", task.runner_id ?? "—"],
          task.waiting_reason ? ["Waiting", task.waiting_reason] : null,
          task.error ? ["Error", `${task.error.code}: ${task.error.message}`] : null,
        ]
          .filter(Boolean)
          .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
      ),
    );
  }

  function drawTabs() {
    const focused = tabs.contains(document.activeElement);
    replace(
      tabs,
      ...task.iterations.map((it) =>
        h(
          "button",
          {
            type: "button",
            role: "tab",
            id: `tab-${it.n}`,
            "aria-selected": String(it.n === selected),
            "aria-controls": "iteration-panel",
            tabindex: it.n === selected ? 0 : -1,
            onclick: () => select(it.n),
            onkeydown: (e) => {
              const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
              if (!step) return;
              e.preventDefault();
              select(Math.min(task.iteration, Math.max(1, selected + step)));
              tabs.querySelector(`#tab-${selected}`)?.focus();
            },
          },
          `Iteration ${it.n}`,
          " ",
          badge(it.status),
        ),
      ),
    );
    panel.setAttribute("aria-labelledby", `tab-${selected}`);
    if (focused) tabs.querySelector(`#tab-${selected}`)?.focus();
  }

  function select(n) {
    selected = n;
    drawTabs();
    drawIteration();
    showLog();
  }

  function drawIteration() {
    const it = task.iterations[selected - 1];
    if (!it) return;
    const steps = statuses.get(selected) ?? [];
    replace(
      timeline,
      h("li", {}, h("span", { class: "step" }, "submitted"), " ", time(it.created_at), h("div", { class: "muted wrap" }, it.prompt)),
      ...steps.map((e) =>
        h(
          "li",
          {},
          badge(e.status),
          " ",
          time(e.ts),
          e.runner_id ? ` on ${e.runner_id}` : "",
          e.error ? h("div", { class: "error" }, `${e.error.code}: ${e.error.message}`) : null,
        ),
      ),
    );
    const result = results.get(selected) ?? it.result;
    const patch = results.get(selected)?.patch ?? (selected === task.iteration ? task.result?.patch : undefined);
    replace(resultEl, result ? resultView(result, { patch, task }) : null);
  }

  function drawFollowUp() {
    if (!TERMINAL.has(task.status)) return replace(followUp);
    const prompt = h("textarea", { name: "follow_up", rows: 3, required: true });
    const message = h("div", { "aria-live": "polite" });
    const submit = h("button", { type: "submit" }, "Send follow-up");
    replace(
      followUp,
      h(
        "form",
        {
          class: "card",
          "aria-labelledby": "follow-up-title",
          onsubmit: async (event) => {
            event.preventDefault();
            submit.disabled = true;
            try {
              task = await api(`/tasks/${taskId}/instructions`, { method: "POST", json: { prompt: prompt.value } });
              selected = task.iteration;
              draw();
              stream.resume();
            } catch (error) {
              replace(message, notice("error", error.field ? `${error.field}: ${error.message}` : error.message));
              submit.disabled = false;
            }
          },
        },
        h("h2", { id: "follow-up-title" }, "Follow up"),
        field("Instructions for the next iteration", prompt, "It starts from what this task has changed so far."),
        submit,
        message,
      ),
    );
  }

  async function onCancel(event) {
    event.currentTarget.disabled = true;
    try {
      await api(`/tasks/${taskId}/cancel`, { method: "POST" });
    } catch (error) {
      header.append(notice("error", error.message));
    }
    refresh();
  }

  function onEvents(events) {
    let changed = false;
    for (const event of events) {
      model.add(event);
      if (event.type === "status") {
        if (!statuses.has(event.iteration)) statuses.set(event.iteration, []);
        statuses.get(event.iteration).push(event);
        changed = true;
      } else if (event.type === "result") {
        results.set(event.iteration, event.result);
        changed = true;
      } else if (event.type === "iteration") changed = true;
    }
    if (changed) refresh();
    else showLog();
  }

  refresh().then(() => {
    if (stopped || !task) return;
    stream = new TaskStream(taskId, {
      onEvents,
      onState: (state) => (connection.textContent = `stream: ${state}`),
      // The edge closes the stream once the task has ended; a follow-up sent just before opens it again.
      hasEnded: () => TERMINAL.has(task.status),
    });
    // Deliveries settle after the task: look again now and then while the page is open.
    poll = setInterval(() => deliveries.refresh(), 5_000);
  });

  return () => {
    stopped = true;
    stream?.stop();
    clearInterval(poll);
  };
}
