/**
 * One terminal line (or none) per stream event, for people watching a task.
 *
 * Structured CLIs (Claude Code's `stream-json`) print JSON; their parsed `agent` events are
 * shown and their raw JSON lines are not. Plain-text output and stderr are shown as they are.
 * A connection the sandbox's egress policy refused is one line naming the host, port and why.
 * What the task's setup commands printed, and the runner's lines about them, are marked `setup`.
 * `--timestamps` prefixes each line with the event's time; `logs --raw` prints the CLI's own
 * output (its `output` events, not the setup's) as it wrote it, JSON lines included.
 * @module
 */
import { PATCH_MAX_BYTES } from "#api/limits.js";
import type { StreamEvent } from "#api/stream-events.js";
import type { DependencyCacheStatus, TaskResult } from "#api/task-result.js";

export interface RenderOptions {
  color: boolean;
}

const paint = (on: boolean, code: string, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

export function renderEvent(event: StreamEvent, options: RenderOptions): string | null {
  const dim = (t: string) => paint(options.color, "2", t);
  const bold = (t: string) => paint(options.color, "1", t);
  switch (event.type) {
    case "status": {
      const why = event.error ? ` (${event.error.code}: ${event.error.message})` : "";
      const where = event.runner_id && event.status === "leased" ? ` by ${event.runner_id}` : "";
      return bold(`● ${event.status}${where}${why}`);
    }
    case "log":
      return dim(`  [${event.phase ?? event.source}] ${event.message}`);
    case "iteration":
      return bold(`● iteration ${event.iteration}: ${truncate(event.prompt.split("\n")[0] ?? "", 120)}`);
    case "agent": {
      // A subagent's work is set apart under the tool call that started it.
      return renderAgentEvent(event, dim, bold, event.parent_id !== undefined ? "  │ " : "  ");
    }
    case "usage": {
      const tokens = event.input_tokens + event.output_tokens + event.cache_read_input_tokens + event.cache_creation_input_tokens;
      const cost = event.cost_usd === null ? "" : ` $${event.cost_usd.toFixed(4)}${event.max_cost_usd ? ` of $${event.max_cost_usd.toFixed(2)}` : ""}`;
      return dim(`  ◦ usage: ${event.calls} call(s), ${tokens} tokens${cost}`);
    }
    case "output":
      if (event.phase === "setup") return event.text.replace(/\n$/, "").replace(/^/gm, event.stream === "stderr" ? "  setup ! " : "  setup │ ");
      if (event.stream === "stdout" && event.text.trimStart().startsWith("{")) return null;
      return event.text.replace(/\n$/, "").replace(/^/gm, event.stream === "stderr" ? "  ! " : "  ");
    case "egress_denied": {
      // An IPv6 address is bracketed, so its port stays readable.
      const host = event.host.includes(":") ? `[${event.host}]` : event.host;
      return bold(`  ✖ ${event.phase ? `${event.phase} ` : ""}egress denied: ${truncate(host, 120)}:${event.port} (${truncate(event.reason, 200)})`);
    }
    case "truncated":
      return bold(`  … output reached ${event.limit_bytes} bytes; the rest was dropped`);
    case "result": {
      const r = event.result;
      const files = r.changed_files.map((f) => `${f.status[0]!.toUpperCase()} ${f.path}`).join(", ") || "none";
      return [
        bold("  result"),
        `    exit code     ${r.exit_code ?? "none"}`,
        `    duration      ${(r.duration_ms / 1000).toFixed(1)} s`,
        ...(r.phases?.setup
          ? [`    setup         ${(r.phases.setup.duration_ms / 1000).toFixed(1)} s${dependencyCacheNote(r.phases.setup.dependency_cache)}`]
          : []),
        `    changed files ${files}`,
        `    diff stat     ${r.diff_stat.files_changed} file(s), +${r.diff_stat.insertions} -${r.diff_stat.deletions}`,
        ...(r.patch_truncated ? [`    patch         TRUNCATED at ${PATCH_MAX_BYTES} bytes`] : []),
        ...(r.push
          ? [`    pushed        ${r.push.commit_sha} to ${r.push.branch}${r.phases?.push ? ` in ${(r.phases.push.duration_ms / 1000).toFixed(1)} s` : ""}`]
          : []),
        ...(r.patch_masked ? ["    patch         MASKED: it holds a secret of the task, so it does not match the files"] : []),
        ...usageLines(r),
      ].join("\n");
    }
  }
}

function truncate(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ");
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Cost and tokens of a result, with where the figures come from; nothing when unknown. */
function usageLines(r: TaskResult): string[] {
  const lines: string[] = [];
  const source = r.usage_source === "gateway" ? "metered by the runner" : r.usage_source === "cli" ? "as the CLI reported" : null;
  if (r.cost_usd !== null) lines.push(`    cost          $${r.cost_usd.toFixed(4)}${source ? ` (${source})` : ""}`);
  const u = r.usage;
  if (u) {
    const parts = [`${u.input_tokens ?? "?"} in`, `${u.output_tokens ?? "?"} out`];
    if (u.cache_read_input_tokens) parts.push(`${u.cache_read_input_tokens} cache read`);
    if (u.cache_creation_input_tokens) parts.push(`${u.cache_creation_input_tokens} cache write`);
    lines.push(`    tokens        ${parts.join(", ")}`);
  }
  for (const [model, m] of Object.entries(r.model_usage ?? {})) {
    lines.push(
      `      ${model}: ${m.calls} call(s), ${m.input_tokens + m.cache_read_input_tokens + m.cache_creation_input_tokens} in, ${m.output_tokens} out${m.cost_usd !== null ? `, $${m.cost_usd.toFixed(4)}` : ""}`,
    );
  }
  return lines;
}

type Paint = (text: string) => string;

function renderAgentEvent(event: Extract<StreamEvent, { type: "agent" }>, dim: Paint, bold: Paint, pad: string): string | null {
  switch (event.kind) {
    case "init":
      return dim(`${pad}◦ session started${event.model ? ` (model ${event.model})` : ""}`);
    case "text":
      return `${pad}${event.text ?? ""}`;
    case "tool_use":
      return `${pad}⚙ ${event.tool ?? "tool"} ${dim(truncate(event.input ?? "", 120))}`;
    case "tool_result":
      return dim(`${pad}  ↳ ${truncate(event.text ?? "", 120)}`);
    case "result":
      if (event.parent_id !== undefined) return dim(`${pad}↳ subagent done${event.text ? `: ${truncate(event.text, 120)}` : ""}`);
      return `${pad}✔ ${event.text ?? ""}${event.cost_usd !== undefined ? dim(` ($${event.cost_usd.toFixed(4)})`) : ""}`;
    case "thinking":
      return dim(`${pad}∴ ${truncate(event.text ?? "", 200)}`);
    case "retry": {
      const of = event.max_attempts ? `/${event.max_attempts}` : "";
      const wait = event.retry_in_ms !== undefined ? ` in ${(event.retry_in_ms / 1000).toFixed(1)} s` : "";
      return bold(
        `${pad}↻ retrying the model call${event.attempt !== undefined ? ` (attempt ${event.attempt}${of})` : ""}${wait}${event.status ? `: HTTP ${event.status}` : ""}${event.text ? ` ${truncate(event.text, 200)}` : ""}`,
      );
    }
    case "permission_denied":
      return bold(`${pad}✖ permission denied: ${event.tool ?? "tool"}${event.text ? ` (${truncate(event.text, 200)})` : ""}`);
    case "api_error":
      return bold(`${pad}✖ model API error${event.status ? ` (HTTP ${event.status})` : ""}: ${truncate(event.text ?? "", 300)}`);
    case "warning":
      return `${pad}! ${truncate(event.text ?? "", 300)}`;
  }
  return null;
}

/** The time an event was stored, `HH:MM:SS` in UTC (`--:--:--` when `ts` is not a time). */
export function eventTime(ts: string): string {
  const t = Date.parse(ts);
  return Number.isNaN(t) ? "--:--:--" : new Date(t).toISOString().slice(11, 19);
}

/** Each line of a rendered event, prefixed with the event's time (`--timestamps`). */
export function stampLines(text: string, ts: string, color: boolean): string {
  const stamp = paint(color, "2", eventTime(ts));
  return text.replace(/^/gm, `${stamp} `);
}

/**
 * What the CLI itself wrote (an `output` event's text, and to which stream), or null for any
 * other event, a setup command's output among them.
 */
export function rawOutput(event: StreamEvent): { text: string; stream: "stdout" | "stderr" } | null {
  return event.type === "output" && event.phase === undefined ? { text: event.text, stream: event.stream } : null;
}

/** How warm the setup's dependency cache was, after its duration; nothing when the runner keeps none. */
function dependencyCacheNote(cache: DependencyCacheStatus | undefined): string {
  return cache && cache !== "off" ? ` (dependency cache: ${cache})` : "";
}
