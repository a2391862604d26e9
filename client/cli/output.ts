/**
 * What the `codeforge` command writes: a sink for lines (stdout in real use, an array in
 * tests), colour on or off, and the one-screen summary of a task.
 * @module
 */
import type { Task } from "../../api/task.js";

export interface Output {
  line(text: string): void;
  error(text: string): void;
  color: boolean;
}

export function consoleOutput(color: boolean): Output {
  return { line: (t) => process.stdout.write(`${t}\n`), error: (t) => process.stderr.write(`${t}\n`), color };
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
  const r = task.result;
  if (r) {
    lines.push(
      `exit code ${r.exit_code ?? "none"} after ${(r.duration_ms / 1000).toFixed(1)} s`,
      `changes   ${r.diff_stat.files_changed} file(s), +${r.diff_stat.insertions} -${r.diff_stat.deletions}${r.changed_files.length ? `: ${r.changed_files.map((f) => f.path).join(", ")}` : ""}`,
    );
    if (r.final_message) lines.push(`message   ${r.final_message}`);
  }
  return lines;
}
