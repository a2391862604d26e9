/**
 * What the `codeforge` command writes: a sink for lines (stdout in real use, an array in
 * tests), colour on or off, and the one-screen summary of a task.
 * @module
 */
import { PATCH_MAX_BYTES } from "#api/limits.js";
import type { Task } from "#api/task.js";

export interface Output {
  line(text: string): void;
  error(text: string): void;
  color: boolean;
  /** Writes text as it is, no newline added, to stdout or stderr (a CLI's raw output). Absent: line by line. */
  raw?(text: string, stream: "stdout" | "stderr"): void;
  /**
   * Present only on a terminal (stdout and stderr both a TTY): replaces the status line at the
   * bottom of stderr with `text` ("" clears it). Progress shows there, never in what is piped.
   */
  redraw?(text: string): void;
}

/** The real output. Whether it is a terminal is decided here, once. */
export function consoleOutput(color: boolean, terminal = process.stdout.isTTY === true && process.stderr.isTTY === true): Output {
  return {
    line: (t) => process.stdout.write(`${t}\n`),
    error: (t) => process.stderr.write(`${t}\n`),
    color,
    raw: (t, stream) => (stream === "stdout" ? process.stdout : process.stderr).write(t),
    ...(terminal ? { redraw: (t: string) => process.stderr.write(`\r\x1b[2K${t}`) } : {}),
  };
}

/** Task status and result, as a few aligned lines. */
export function taskSummary(task: Task): string[] {
  const lines = [
    `task      ${task.id}`,
    `status    ${task.status}${task.error ? ` (${task.error.code}: ${task.error.message})` : ""}`,
    `repo      ${task.repo.url}${task.repo.ref ? ` @ ${task.repo.ref}` : ""}`,
    `cli       ${task.cli}${task.model ? ` (${task.model})` : ""}, attempt ${task.attempt} of ${task.max_attempts}${task.runner_id ? ` on ${task.runner_id}` : ""}`,
    `created   ${task.created_at}${task.finished_at ? `, finished ${task.finished_at}` : ""}`,
  ];
  if (task.status === "queued" && task.waiting_reason) lines.push(`waiting   ${task.waiting_reason}`);
  const r = task.result;
  if (r) {
    lines.push(
      `exit code ${r.exit_code ?? "none"} after ${(r.duration_ms / 1000).toFixed(1)} s`,
      `changes   ${r.diff_stat.files_changed} file(s), +${r.diff_stat.insertions} -${r.diff_stat.deletions}${r.changed_files.length ? `: ${r.changed_files.map((f) => f.path).join(", ")}` : ""}`,
    );
    if (r.patch_truncated)
      lines.push(
        `patch     TRUNCATED at ${PATCH_MAX_BYTES} bytes: the change is bigger than the result holds${r.push ? "; the pushed commit has all of it" : ""}`,
      );
    if (r.push) lines.push(`pushed    ${r.push.commit_sha} to branch ${r.push.branch}`);
    else if (task.push && task.status === "succeeded") lines.push(`pushed    nothing (no changes)`);
    const spend = spendLine(r);
    if (spend) lines.push(`usage     ${spend}`);
    if (r.final_message) lines.push(`message   ${r.final_message}`);
  }
  return lines;
}

/** `$0.1842, 1204 in / 2311 out tokens (48120 cache read, 9876 cache write)`, or null when the CLI said nothing. */
export function spendLine(r: NonNullable<Task["result"]>): string | null {
  const parts: string[] = [];
  if (r.cost_usd !== null && r.cost_usd !== undefined) parts.push(`$${r.cost_usd.toFixed(4)}`);
  const u = r.usage;
  if (u) {
    const cache = [
      u.cache_read_input_tokens !== null ? `${u.cache_read_input_tokens} cache read` : null,
      u.cache_creation_input_tokens !== null ? `${u.cache_creation_input_tokens} cache write` : null,
    ].filter(Boolean);
    parts.push(`${u.input_tokens ?? "?"} in / ${u.output_tokens ?? "?"} out tokens${cache.length ? ` (${cache.join(", ")})` : ""}`);
  }
  return parts.length ? parts.join(", ") : null;
}
