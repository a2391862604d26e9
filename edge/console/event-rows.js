/**
 * A task's log as rows of text for the log view: each event becomes an entry with its lines,
 * rendered the way a person reads an agent's work — text, thinking, a tool call on one line
 * that unfolds to its input and result, retries, refusals, errors, status changes — or, in raw
 * mode, the CLI's own stdout and stderr as it wrote them. Entries keep their row objects, so a
 * rebuild after a fold or a new frame allocates nothing for what was already there.
 * @module
 */

/** How much of a tool call's input its folded line shows. */
const SUMMARY_CHARS = 120;

const clock = (ts) => (ts ? new Date(ts).toLocaleTimeString() : "");
const lines = (text) => String(text ?? "").split("\n");
const rowsOf = (text, cls, prefix = "") => lines(text).map((line, i) => ({ text: (i === 0 ? prefix : " ".repeat(prefix.length)) + line, cls }));

export class LogModel {
  constructor() {
    /** Every entry, in seq order. */
    this.entries = [];
    /** Tool calls by id, to attach their results. */
    this.tools = new Map();
    /** The last output entry per stream, for a chunk that continues its line. */
    this.openLine = { stdout: null, stderr: null };
    this.lastSeq = 0;
  }

  /** Adds one stream event (each seq once). */
  add(event) {
    if (event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    const at = `${clock(event.ts)} `;
    const base = { iteration: event.iteration, raw: false };
    switch (event.type) {
      case "output":
        return this.addOutput(event);
      case "log":
        return this.push({ ...base, rows: rowsOf(event.message, `log-${event.level}`, `${at}[${event.source}] `) });
      case "status": {
        const why = event.error ? ` — ${event.error.code}: ${event.error.message}` : event.reason ? ` — ${event.reason}` : "";
        const runner = event.runner_id ? ` on ${event.runner_id}` : "";
        return this.push({ ...base, rows: rowsOf(`● ${event.status}${runner}${why}`, `status s-${event.status}`, at) });
      }
      case "result": {
        const r = event.result;
        const text = `● result: ${r.diff_stat.files_changed} file(s) changed, +${r.diff_stat.insertions} −${r.diff_stat.deletions}, exit ${r.exit_code ?? "—"}`;
        return this.push({ ...base, rows: rowsOf(text, "status", at) });
      }
      case "iteration":
        return this.push({ ...base, rows: rowsOf(`━━ iteration ${event.iteration}: ${event.prompt}`, "iteration", at) });
      case "truncated":
        return this.push({ ...base, rows: rowsOf(`— output truncated at ${event.limit_bytes} bytes; later output was dropped —`, "warning", at) });
      case "egress_denied":
        return this.push({ ...base, rows: rowsOf(`⛔ connection refused by the egress policy: ${event.host}:${event.port} — ${event.reason}`, "refusal", at) });
      case "agent":
        return this.addAgent(event, base, at);
      default:
        // usage events feed the figures, not the log; unknown types are skipped.
        return;
    }
  }

  addAgent(event, base, at) {
    const nest = event.parent_id ? "  ↳ " : "";
    switch (event.kind) {
      case "tool_use": {
        const entry = { ...base, tool: event, result: null, open: false, rows: null };
        entry.rows = [{ text: "", cls: "tool", fold: entry }];
        entry.summary = `${at}${nest}▸ ${event.tool ?? "tool"} ${(event.input ?? "").slice(0, SUMMARY_CHARS)}`;
        this.tools.set(event.id, entry);
        this.refreshTool(entry);
        return this.push(entry);
      }
      case "tool_result": {
        const entry = this.tools.get(event.id);
        if (!entry) return this.push({ ...base, rows: rowsOf(event.text, event.is_error ? "error" : "tool-result", `${at}${nest}⮑ `) });
        entry.result = event;
        return this.refreshTool(entry);
      }
      case "text":
        return this.push({ ...base, rows: rowsOf(event.text, "text", `${at}${nest}`) });
      case "thinking":
        return this.push({ ...base, rows: rowsOf(event.text, "thinking", `${at}${nest}… `) });
      case "init":
        return this.push({ ...base, rows: rowsOf(`session started${event.model ? ` (model ${event.model})` : ""}`, "status", at) });
      case "result": {
        const cost = event.cost_usd !== undefined ? ` ($${event.cost_usd})` : "";
        return this.push({ ...base, rows: rowsOf(`${event.text ?? "done"}${cost}`, event.is_error ? "error" : "result", `${at}✓ `) });
      }
      case "retry": {
        const what = `↻ retrying the model call: attempt ${event.attempt ?? "?"} of ${event.max_attempts ?? "?"}${event.retry_in_ms !== undefined ? ` in ${event.retry_in_ms} ms` : ""}${event.status ? ` (HTTP ${event.status})` : ""}`;
        return this.push({ ...base, rows: rowsOf(event.text ? `${what}: ${event.text}` : what, "retry", at) });
      }
      case "permission_denied":
        return this.push({ ...base, rows: rowsOf(`⛔ refused: ${event.tool ?? "a tool"}${event.text ? ` — ${event.text}` : ""}`, "refusal", at) });
      case "api_error":
        return this.push({ ...base, rows: rowsOf(`✖ model API error${event.status ? ` (HTTP ${event.status})` : ""}: ${event.text ?? ""}`, "error", at) });
      case "warning":
        return this.push({ ...base, rows: rowsOf(`⚠ ${event.text ?? ""}`, "warning", at) });
      default:
        return;
    }
  }

  /** A tool call's rows: its line, and when unfolded its input and its result. */
  refreshTool(entry) {
    const head = entry.rows[0];
    const mark = entry.result ? (entry.result.is_error ? " ✗" : " ✓") : " …";
    head.text = entry.summary + mark;
    head.cls = entry.result?.is_error ? "tool tool-error" : "tool";
    entry.rows.length = 1;
    if (!entry.open) return;
    entry.rows.push(...rowsOf(entry.tool.input ?? "", "tool-detail", "    input: "));
    if (entry.result) entry.rows.push(...rowsOf(entry.result.text ?? "", entry.result.is_error ? "error" : "tool-detail", "    result: "));
    else entry.rows.push({ text: "    (no result yet)", cls: "tool-detail" });
  }

  toggle(entry) {
    entry.open = !entry.open;
    this.refreshTool(entry);
  }

  addOutput(event) {
    const pieces = event.text.split("\n");
    const cls = event.stream === "stderr" ? "err" : "out";
    const open = this.openLine[event.stream];
    if (open && open.iteration === event.iteration) open.rows.at(-1).text += pieces.shift();
    const entry = { iteration: event.iteration, raw: true, rows: pieces.map((text) => ({ text, cls })) };
    // A chunk ending in a newline leaves an empty last piece: the next chunk starts a new line.
    if (entry.rows.at(-1)?.text === "") entry.rows.pop();
    this.openLine[event.stream] = event.text.endsWith("\n") ? null : entry.rows.length ? entry : open;
    if (entry.rows.length) this.push(entry);
  }

  push(entry) {
    this.entries.push(entry);
  }

  /** The rows to show: one iteration's (or all, with 0), rendered or raw. */
  rows({ iteration = 0, raw = false } = {}) {
    const out = [];
    for (const entry of this.entries) {
      if (entry.raw !== raw || (iteration && entry.iteration !== iteration)) continue;
      for (const row of entry.rows) out.push(row);
    }
    return out;
  }
}
