// Unit: what the App posts on GitHub — replies, pull request title and body — and that text not ours stays in its place.
import { describe, expect, it } from "vitest";
import { Task } from "#api/task.js";
import {
  busyReply,
  formatDuration,
  markedTaskId,
  OUTPUT_TAIL_MAX_CHARS,
  OUTPUT_TAIL_MAX_LINES,
  PULL_REQUEST_TITLE_MAX_CHARS,
  pullRequestBody,
  pullRequestTitle,
  refusedReply,
  resultReply,
  startedReply,
} from "../../edge/src/github/messages.js";

const TASK_ID = "tsk_01hzzzzzzzabcdefghjkmnpqrs";
const TASK_URL = `https://codeforge.example/tasks/${TASK_ID}`;
const DIFF_STAT = { files_changed: 3, insertions: 10, deletions: 2 };

function task(overrides: Partial<Task>): Task {
  const base = {
    id: TASK_ID,
    status: "succeeded",
    iteration: 1,
    iterations: [],
    repo: { url: "https://github.com/o/r.git", ref: "main" },
    prompt: "p",
    cli: "claude",
    model: null,
    timeout_seconds: 1800,
    priority: 5,
    pool: "default",
    labels: [],
    max_attempts: 3,
    stall_timeout_seconds: null,
    autonomy: "full",
    egress_allow: null,
    max_cost_usd: null,
    max_tokens: null,
    max_turns: null,
    has_access_token: true,
    env_names: [],
    metadata: {},
    push: true,
    branch: "codeforge/issue-1",
    callback_url: null,
    callback_events: [],
    attempt: 1,
    runner_id: null,
    cancel_requested: false,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    started_at: null,
    finished_at: null,
    result: {
      exit_code: 0,
      duration_ms: 185_000,
      changed_files: [],
      changed_files_truncated: false,
      diff_stat: DIFF_STAT,
      patch: "",
      patch_truncated: false,
      final_message: "Fixed the spelling of *commit* in the README.",
      cost_usd: 0.42,
      push: { branch: "codeforge/issue-1", commit_sha: "a".repeat(40) },
    },
    error: null,
    setup: null,
    waiting_reason: null,
    last_seq: 10,
    links: { self: "", events: "", stream: "", cancel: "", deliveries: "", instructions: "" },
    ...overrides,
  };
  return Task.parse(base);
}

/** The fenced blocks of `text`, as their content. */
function fencedBlocks(text: string): string[] {
  return Array.from(text.matchAll(/^(`{3,})[a-z]*\n([\s\S]*?)^\1$/gm), (m) => m[2]!);
}

describe("replies", () => {
  it("carry the task's marker", () => {
    for (const body of [
      startedReply({ taskId: TASK_ID, taskUrl: TASK_URL, followUp: false }),
      busyReply({ taskId: TASK_ID, taskUrl: TASK_URL }),
      resultReply({ task: task({}), taskUrl: TASK_URL, pullRequestUrl: null, outputTail: "" }),
      pullRequestBody({ issueNumber: 1, summary: null, diffStat: DIFF_STAT, costUsd: null, durationMs: 1, taskUrl: TASK_URL, taskId: TASK_ID }),
    ]) {
      expect(body).toContain(`<!-- codeforge:task=${TASK_ID} -->`);
      expect(markedTaskId(body)).toBe(TASK_ID);
      expect(body).toContain(`](${TASK_URL})`);
    }
    expect(markedTaskId("a comment by a person")).toBeNull();
  });

  it("say whether a start is a follow-up", () => {
    expect(startedReply({ taskId: TASK_ID, taskUrl: TASK_URL, followUp: true })).toContain("follow-up");
    expect(startedReply({ taskId: TASK_ID, taskUrl: TASK_URL, followUp: false })).not.toContain("follow-up");
  });

  it("say why a task was refused", () => {
    const body = refusedReply({ code: "rate_limited", message: "too many tasks\nwait a minute" });
    expect(body).toContain("`rate_limited`");
    expect(body).toContain("too many tasks wait a minute");
  });
});

describe("resultReply", () => {
  it("reports a success with the pull request, diff stat, cost, duration and summary", () => {
    const body = resultReply({ task: task({}), taskUrl: TASK_URL, pullRequestUrl: "https://github.com/o/r/pull/7", outputTail: "" });
    expect(body).toContain("pushed `codeforge/issue-1` — https://github.com/o/r/pull/7");
    expect(body).toContain("3 files changed, +10 −2 · $0.42 · 3 min 5 s");
    expect(body).toContain("Fixed the spelling of *commit* in the README.");
  });

  it("cannot be given a second marker by the summary", () => {
    const forged = "done <!-- codeforge:task=tsk_00000000000000000000000000 -->";
    const t = task({});
    t.result!.final_message = forged;
    const body = resultReply({ task: t, taskUrl: TASK_URL, pullRequestUrl: null, outputTail: "" });
    expect(body.match(/<!-- codeforge:task=/g)).toHaveLength(1);
    expect(markedTaskId(body)).toBe(TASK_ID);
    const pr = pullRequestBody({ issueNumber: 1, summary: forged, diffStat: DIFF_STAT, costUsd: 0, durationMs: 1, taskUrl: TASK_URL, taskId: TASK_ID });
    expect(markedTaskId(pr)).toBe(TASK_ID);
  });

  it("reports a failure with the error and the last lines of output in a fence the output cannot close", () => {
    const output = `${Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n")}\n\`\`\`\n# Injected heading\n\u001b[31mred error\u001b[0m\n`;
    const body = resultReply({
      task: task({ status: "failed", result: null, error: { code: "cli_failed", message: "the CLI exited with code 1" } }),
      taskUrl: TASK_URL,
      pullRequestUrl: null,
      outputTail: output,
    });
    expect(body).toContain("failed.");
    expect(body).toContain("`cli_failed`: the CLI exited with code 1");
    const blocks = fencedBlocks(body);
    expect(blocks).toHaveLength(1);
    const shown = blocks[0]!;
    expect(shown).toContain("```\n# Injected heading\n");
    expect(shown).toContain("red error");
    expect(shown).not.toContain("\u001b");
    expect(shown).not.toContain("[31m");
    expect(shown).not.toContain("line 50\n");
    expect(shown.trimEnd().split("\n").length).toBeLessThanOrEqual(OUTPUT_TAIL_MAX_LINES);
    expect(body.replace(/^(`{3,})[a-z]*\n[\s\S]*?^\1$/gm, "")).not.toContain("Injected heading");
  });

  it("caps output by size as well as lines", () => {
    const body = resultReply({
      task: task({ status: "timed_out", result: null, error: { code: "timed_out", message: "ran out of time" } }),
      taskUrl: TASK_URL,
      pullRequestUrl: null,
      outputTail: `${"x".repeat(20_000)}\nlast`,
    });
    expect(body).toContain("timed out");
    expect(fencedBlocks(body)[0]!.length).toBeLessThanOrEqual(OUTPUT_TAIL_MAX_CHARS + 1);
    expect(fencedBlocks(body)[0]).toMatch(/last\n$/);
  });
});

describe("pull request", () => {
  it("starts its body with Fixes #n and gives the figures and the task", () => {
    const body = pullRequestBody({
      issueNumber: 12,
      summary: "Did it.",
      diffStat: DIFF_STAT,
      costUsd: 1.5,
      durationMs: 45_000,
      taskUrl: TASK_URL,
      taskId: TASK_ID,
    });
    expect(body.startsWith("Fixes #12\n")).toBe(true);
    expect(body).toContain("3 files changed, +10 −2 · $1.50 · 45 s");
    expect(body).toContain("Did it.");
  });

  it("has a one-line title within GitHub's limit", () => {
    expect(pullRequestTitle("Spelling error in the README file", 1)).toBe("Spelling error in the README file (#1)");
    const long = pullRequestTitle(`a\nb ${"x".repeat(400)}`, 12345);
    expect(long.length).toBeLessThanOrEqual(PULL_REQUEST_TITLE_MAX_CHARS);
    expect(long).toMatch(/^a b x+… \(#12345\)$/);
    expect(pullRequestTitle("  ", 3)).toBe("Issue #3 (#3)");
  });

  it("formats durations", () => {
    expect(formatDuration(4_400)).toBe("4 s");
    expect(formatDuration(3_725_000)).toBe("1 h 2 min");
  });
});
