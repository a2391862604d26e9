/**
 * What the App writes on GitHub: its replies on the issue or pull request (started, busy,
 * refused, how the task ended) and the pull request's title and description.
 *
 * Each reply carries a hidden marker (`<!-- codeforge:task=<id> -->`) so the App can find its
 * own comments again. Text that is not ours (the agent's summary, the task's output) is shown
 * as it is but can neither close the fence it sits in (see `untrusted-text.ts`) nor forge a
 * marker.
 * @module
 */
import type { Task } from "#api/task.js";
import type { DiffStat } from "#api/task-result.js";
import { capText, fence, tailText } from "./untrusted-text.js";

/** The agent's summary in a reply or pull request: a few paragraphs. */
export const SUMMARY_MAX_CHARS = 4_000;
/** Output quoted in a failure's reply: enough to see the error, not the whole log. */
export const OUTPUT_TAIL_MAX_LINES = 40;
export const OUTPUT_TAIL_MAX_CHARS = 4_096;
/** GitHub's own limit on a pull request title. */
export const PULL_REQUEST_TITLE_MAX_CHARS = 256;

const MARKER = /<!-- codeforge:task=(tsk_[0-9a-z]{26}) -->/;

/** The hidden marker that ties a comment to its task. */
export function taskMarker(taskId: string): string {
  return `<!-- codeforge:task=${taskId} -->`;
}

/** The task id of the first marker in `body`, or null when it has none. */
export function markedTaskId(body: string): string | null {
  return MARKER.exec(body)?.[1] ?? null;
}

/** Posted as soon as a task (or a follow-up of it) is created. */
export function startedReply(input: { taskId: string; taskUrl: string; followUp: boolean }): string {
  const what = input.followUp ? "on a follow-up of" : "on";
  return `${taskMarker(input.taskId)}\n👀 CodeForge is working ${what} ${taskLink(input.taskId, input.taskUrl)}. This comment will say how it went.`;
}

/** Posted when a steer arrives while the conversation's task is still running. */
export function busyReply(input: { taskId: string; taskUrl: string }): string {
  return `${taskMarker(input.taskId)}\n⏳ CodeForge is still working on ${taskLink(input.taskId, input.taskUrl)}, so this request was not started. Ask again once it has finished.`;
}

/** Posted when CodeForge refused to create the task (the key's limits, a check of the request). */
export function refusedReply(input: { code: string; message: string }): string {
  return `<!-- codeforge:refused -->\n⚠️ CodeForge could not start a task: \`${inlineCode(input.code)}\` — ${oneLine(input.message, 500)}`;
}

/**
 * How an iteration ended, replacing the started reply: for a success, the agent's summary, the
 * diff stat, cost and duration and the pull request; otherwise the error and the last lines
 * of output (`outputTail`, the iteration's output as text).
 */
export function resultReply(input: { task: Task; taskUrl: string; pullRequestUrl: string | null; outputTail: string }): string {
  const { task } = input;
  const link = taskLink(task.id, input.taskUrl);
  const iteration = task.iteration > 1 ? ` (follow-up ${task.iteration - 1})` : "";
  const lines = [taskMarker(task.id)];
  const result = task.result;
  if (task.status === "succeeded" && result) {
    if (result.push) {
      const pr = input.pullRequestUrl ? ` — ${input.pullRequestUrl}` : "";
      lines.push(`✅ CodeForge finished ${link}${iteration} and pushed \`${inlineCode(result.push.branch)}\`${pr}`);
    } else {
      lines.push(`✅ CodeForge finished ${link}${iteration} without changing anything.`);
    }
    lines.push("", figures({ diffStat: result.diff_stat, costUsd: result.cost_usd, durationMs: result.duration_ms }));
    if (result.final_message) lines.push("", "**Summary**", "", summary(result.final_message));
    return lines.join("\n");
  }
  const verb =
    task.status === "timed_out" ? "timed out" : task.status === "canceled" ? "was canceled" : task.status === "failed" ? "failed" : `is ${task.status}`;
  lines.push(`❌ CodeForge ${link}${iteration} ${verb}.`);
  if (task.error) lines.push("", `\`${inlineCode(task.error.code)}\`: ${oneLine(task.error.message, 1_000)}`);
  const tail = outputTail(input.outputTail);
  if (tail !== "") lines.push("", "<details open><summary>Last lines of output</summary>", "", fence(tail, "text"), "", "</details>");
  return lines.join("\n");
}

/** The pull request's title: the issue's, said to be CodeForge's, within GitHub's limit. */
export function pullRequestTitle(subjectTitle: string, issueNumber: number): string {
  const suffix = ` (#${issueNumber})`;
  return `${oneLine(subjectTitle, PULL_REQUEST_TITLE_MAX_CHARS - suffix.length) || `Issue #${issueNumber}`}${suffix}`;
}

/** The pull request's description, starting with "Fixes #n" so merging closes the issue. */
export function pullRequestBody(input: {
  issueNumber: number;
  summary: string | null;
  diffStat: DiffStat;
  costUsd: number | null;
  durationMs: number;
  taskUrl: string;
  taskId: string;
}): string {
  const lines = [`Fixes #${input.issueNumber}`, "", `Made by CodeForge, ${taskLink(input.taskId, input.taskUrl)}.`, ""];
  lines.push(figures(input));
  if (input.summary) lines.push("", "**Summary**", "", summary(input.summary));
  lines.push("", taskMarker(input.taskId));
  return lines.join("\n");
}

/** `3 files changed, +10 −2 · $0.42 · 3 min 5 s` */
export function figures(input: { diffStat: DiffStat; costUsd: number | null; durationMs: number }): string {
  const d = input.diffStat;
  const files = `${d.files_changed} file${d.files_changed === 1 ? "" : "s"} changed, +${d.insertions} −${d.deletions}`;
  const cost = input.costUsd === null ? "cost unknown" : `$${input.costUsd < 0.01 && input.costUsd > 0 ? input.costUsd.toFixed(4) : input.costUsd.toFixed(2)}`;
  return `${files} · ${cost} · ${formatDuration(input.durationMs)}`;
}

/** `45 s`, `3 min 5 s`, `1 h 2 min`. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1_000);
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3_600)} h ${Math.floor((seconds % 3_600) / 60)} min`;
}

function taskLink(taskId: string, taskUrl: string): string {
  return `[task \`${taskId}\`](${taskUrl})`;
}

/** The agent's Markdown as it wrote it, capped, with HTML comments opened harmlessly so it cannot forge a marker. */
function summary(text: string): string {
  return capText(text.replaceAll("<!--", "&lt;!--"), SUMMARY_MAX_CHARS);
}

/** The last lines of output: colour codes and control characters removed, then capped by lines and size. */
function outputTail(text: string): string {
  const clean = text
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g, "")
    .replace(/\r\n?/g, "\n")
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "")
    .replace(/\n+$/, "");
  return tailText(clean.split("\n").slice(-OUTPUT_TAIL_MAX_LINES).join("\n"), OUTPUT_TAIL_MAX_CHARS);
}

/** A single line of at most `maxChars` characters. */
function oneLine(text: string, maxChars: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= maxChars ? line : `${line.slice(0, maxChars - 1)}…`;
}

/** Text for inside single backticks: a backtick there would end the span early. */
function inlineCode(text: string): string {
  return text.replaceAll("`", "'");
}
