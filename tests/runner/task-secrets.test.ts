// Integration: a task's secrets on the runner — the repository token, the CLI's env, masking
// in everything sent to the edge — and the stall timeout, through the real runner, real git
// and stand-in CLIs (tests/runner/fixtures/bin) against the fake edge.
import { Registry } from "prom-client";
import { beforeEach, describe, expect, it } from "vitest";
import { configuredAdapters } from "../../runner/src/cli/configured-adapters.js";
import { createRunnerMetrics } from "../../runner/src/telemetry/runner-metrics.js";
import type { FakeTask } from "./harness/fake-edge.js";
import { processesIn, STAND_IN_PATH } from "./harness/test-runner.js";
import { useRunner } from "./harness/use-runner.js";

const API_KEY = "sk-ant-api03-SuperSecretValue-0123456789";
const TOKEN = "ghs_RepoAccessToken_abcdefghijklmnop";

const h = useRunner();
let register: Registry;
beforeEach(() => {
  register = new Registry();
});

async function startRunner(options: { stallTimeoutSeconds?: number; runnerSecret?: string } = {}) {
  await h.start({
    runnerId: "secrets-runner",
    adapters: configuredAdapters({ clis: ["claude", "demo"], cli_env: {}, script_command: undefined, script_args: [] }, STAND_IN_PATH),
    pathEnv: STAND_IN_PATH,
    taskRunner: {
      stallTimeoutSeconds: options.stallTimeoutSeconds,
      runnerSecret: options.runnerSecret,
      metrics: createRunnerMetrics({ register, workspaceRoot: h.workspaceRoot }),
    },
  });
}

/** Everything the edge received about a task: every batch and the completion. */
const sent = (task: FakeTask) => JSON.stringify(task.batches) + JSON.stringify(task.completion) + JSON.stringify(task.releases);
const forms = (secret: string) => [secret, Buffer.from(secret).toString("base64"), secret.slice(0, 12), secret.slice(-12)];

describe("task secrets on the runner", () => {
  it("masks an API key the CLI prints — in text events, stderr, base64, and split across two reads", async () => {
    await startRunner();
    const task = h.enqueue({ cli: "claude", prompt: "Leak it [leak]", env: { ANTHROPIC_API_KEY: API_KEY } });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("succeeded");
    const text = sent(task);
    for (const form of forms(API_KEY)) expect(text).not.toContain(form);
    const events = h.edge.events(task.id);
    expect(events).toContainEqual({ type: "agent", kind: "text", text: "my key is ***" });
    const out = (stream: string) =>
      events
        .filter((e) => e.type === "output" && e.stream === stream)
        .map((e) => (e as { text: string }).text)
        .join("");
    expect(out("stderr")).toContain("debug: key=***\n");
    expect(out("stdout")).toContain("raw b64 ***\n");
    expect(out("stdout")).toContain("split *** done\n");
    // The raw stdout also carried the stream-json line with the key inside JSON.
    expect(out("stdout")).toContain('"text":"my key is ***"');
    expect(h.edge.violations).toEqual([]);
  });

  it("keeps the repository token out of the CLI's environment and out of everything sent", async () => {
    await startRunner();
    const task = h.enqueue({
      cli: "claude",
      prompt: "Show env [print-env]",
      access_token: TOKEN,
      env: { ANTHROPIC_API_KEY: API_KEY },
    });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("succeeded");
    const envLine = h.edge.events(task.id).find((e) => e.type === "agent" && e.text?.startsWith("ENV_NAMES"));
    expect(envLine).toMatchObject({ text: "ENV_NAMES ANTHROPIC_API_KEY,HOME,LANG,PATH,TMPDIR" });
    for (const form of forms(TOKEN)) expect(sent(task)).not.toContain(form);
  });

  it("masks secrets in error messages of the completion and the runner's log events", async () => {
    await startRunner();
    // A secret value that also appears in the repository URL: the clone error names the URL.
    const missing = `${h.fixture.url.replace(/origin\.git$/, "")}repo-${API_KEY}.git`;
    const task = h.edge.enqueue({ repo: { url: missing, ref: "main" }, cli: "claude", prompt: "x", env: { ANTHROPIC_API_KEY: API_KEY } });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("failed");
    expect(completion.error!.code).toBe("clone_failed");
    expect(completion.error!.message).toContain("repo-***.git");
    expect(sent(task)).not.toContain(API_KEY);
    expect(h.edge.events(task.id)).toContainEqual(expect.objectContaining({ type: "log", message: expect.stringContaining("repo-***.git") }));
  });

  it("masks the runner's own secret in the output, the patch and the result, wherever it turns up", async () => {
    const runnerSecret = "cf_runner_TheRunnersOwnHmacKey_0123456789";
    await startRunner({ runnerSecret });
    // A prompt carrying it (a confused client, or text an agent found): the demo CLI writes and echoes it.
    const task = h.enqueue({ cli: "demo", prompt: `Note ${runnerSecret}` });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("succeeded");
    expect(completion.result!.patch).toContain("Note ***");
    // Not pushed, so it succeeds; but the patch no longer matches the file, and says so.
    expect(completion.result!.patch_masked).toBe(true);
    expect(h.edge.events(task.id)).toContainEqual(
      expect.objectContaining({ type: "log", level: "warn", message: expect.stringContaining("The change holds a secret of this task (in ") }),
    );
    for (const form of forms(runnerSecret)) expect(sent(task)).not.toContain(form);
  });

  it("refuses a task env that tries to override what the runner sets, before the CLI starts", async () => {
    await startRunner();
    const task = h.enqueue({ cli: "claude", prompt: "x", env: { PATH: "/tmp/evil", ANTHROPIC_API_KEY: API_KEY } });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("failed");
    expect(completion.error).toMatchObject({ code: "runner_error", message: expect.stringContaining("env was refused") });
    expect(task.heartbeats.some((h) => h.phase === "running")).toBe(false);
  });
});

describe("stall timeout", () => {
  it("stops a CLI that prints nothing for stall_timeout_seconds and fails the task as stalled", async () => {
    await startRunner();
    const task = h.enqueue({ cli: "claude", prompt: "Wait [hang]", env: { ANTHROPIC_API_KEY: API_KEY }, stall_timeout_seconds: 1 });
    const started = Date.now();
    const completion = await h.done(task);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(completion.outcome).toBe("failed");
    expect(completion.error).toEqual({ code: "stalled", message: "the CLI printed nothing for longer than the stall timeout" });
    expect(processesIn(task.id)).toEqual([]);
    // Counted once the attempt has cleaned up, just after its report.
    await expect
      .poll(() => register.getSingleMetricAsString("codeforge_runner_tasks_total"))
      .toContain('codeforge_runner_tasks_total{outcome="failed",cli="claude"} 1');
  });

  it("uses the runner's default when the task sets none, and leaves a chatty CLI alone", async () => {
    await startRunner({ stallTimeoutSeconds: 1 });
    const chatty = h.enqueue({ cli: "demo", prompt: "Tick [demo:lines=12][demo:tick=200]" });
    const quiet = h.enqueue({ cli: "claude", prompt: "Wait [hang]", env: { ANTHROPIC_API_KEY: API_KEY } });
    expect((await h.done(quiet)).error?.code).toBe("stalled");
    // 12 lines 200 ms apart: 2.4 s in all, never 1 s quiet.
    expect((await h.done(chatty)).outcome).toBe("succeeded");
  });
});
