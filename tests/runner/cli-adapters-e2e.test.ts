// Integration: each CLI adapter driving a stand-in of its CLI (tests/runner/fixtures/bin/*),
// through the real runner against the fake edge. The stand-ins check their argv the way the
// real CLIs do (unknown flags refused, the prompt where the real one reads it, the API key
// in the environment) and print the real output format, so the adapters are what is tested.
import { describe, expect, it } from "vitest";
import type { AgentEvent, CliName, TokenUsage } from "#api/index.js";
import { configuredAdapters } from "../../runner/src/cli/configured-adapters.js";
import { agentEvents } from "./harness/events.js";
import type { FakeTask } from "./harness/fake-edge.js";
import { createGitFixture } from "./harness/git-fixture.js";
import { EDIT_FILE_SCRIPT, STAND_IN_PATH } from "./harness/test-runner.js";
import { useRunner } from "./harness/use-runner.js";

const h = useRunner();

async function startRunner(options: { cliEnv?: Partial<Record<CliName, Record<string, string>>>; stallTimeoutSeconds?: number } = {}) {
  const runner = await h.start({
    runnerId: "cli-runner",
    adapters: configuredAdapters(
      { clis: undefined, cli_env: options.cliEnv ?? {}, script_command: EDIT_FILE_SCRIPT, script_args: ["--fixed", "arg"] },
      STAND_IN_PATH,
    ),
    pathEnv: STAND_IN_PATH,
    taskRunner: { stallTimeoutSeconds: options.stallTimeoutSeconds },
  });
  return runner.registry;
}

const allText = (task: FakeTask) => JSON.stringify(h.edge.events(task.id)) + JSON.stringify(task.completion);
describe("CLI adapters end to end", () => {
  const usage = (input: number, output: number, cacheRead: number | null, cacheCreation: number | null): TokenUsage => ({
    input_tokens: input,
    output_tokens: output,
    cache_read_input_tokens: cacheRead,
    cache_creation_input_tokens: cacheCreation,
  });
  const cases: {
    cli: CliName;
    env: Record<string, string>;
    kinds: AgentEvent["kind"][];
    final: string | null;
    model?: string;
    cost: number | null;
    usage: TokenUsage | null;
  }[] = [
    {
      cli: "claude",
      env: { ANTHROPIC_API_KEY: "sk-ant-test-claude-key" },
      kinds: ["init", "tool_use", "tool_result", "text", "result"],
      final: "Edited the file.",
      model: "claude-opus-4",
      cost: 0.0123,
      usage: usage(10, 20, 3400, 1200),
    },
    {
      cli: "codex",
      env: { OPENAI_API_KEY: "sk-test-codex-key-123" },
      kinds: ["init", "tool_use", "tool_result", "tool_use", "tool_result", "text", "result"],
      final: "Created the file.",
      model: "gpt-5-codex",
      cost: null,
      usage: usage(100, 50, 64, null),
    },
    {
      cli: "gemini",
      env: { GEMINI_API_KEY: "gm-test-gemini-key-123" },
      kinds: ["init", "tool_use", "tool_result", "text", "text", "result"],
      final: "I created the file.",
      model: "gemini-2.5-flash",
      cost: null,
      usage: usage(20, 10, null, null),
    },
    {
      cli: "opencode",
      env: { ANTHROPIC_API_KEY: "sk-ant-test-opencode" },
      kinds: ["init", "tool_use", "tool_result", "text", "result"],
      final: "Wrote the file.",
      model: "anthropic/claude-sonnet-4",
      cost: 0.003,
      usage: usage(30, 12, 300, 3),
    },
    { cli: "aider", env: { OPENAI_API_KEY: "sk-test-aider-key-123" }, kinds: [], final: null, model: "gpt-4o", cost: 0.0142, usage: null },
  ];
  for (const { cli, env, kinds, final, model, cost, usage } of cases) {
    it(`${cli}: runs non-interactively, parses its output, and reports its change`, async () => {
      await startRunner();
      const task = h.enqueue({ cli, model: model ?? null, prompt: `Make the ${cli} change`, env });
      const completion = await h.done(task);
      expect(completion.error).toBeNull();
      expect(completion.outcome).toBe("succeeded");
      expect(completion.result!.changed_files).toEqual([{ path: `EDITED_BY_${cli.toUpperCase()}.md`, status: "added" }]);
      expect(completion.result!.patch).toContain(`+Make the ${cli} change`);
      expect(completion.result!.final_message).toBe(final);
      // What the CLI said the run cost, from its own closing event, into the task's result.
      if (cost === null) expect(completion.result!.cost_usd).toBeNull();
      else expect(completion.result!.cost_usd).toBeCloseTo(cost, 10);
      expect(completion.result!.usage).toEqual(usage);
      expect(completion.result!.push).toBeNull();
      expect(agentEvents(h.edge.events(task.id)).map((e) => e.kind)).toEqual(kinds);
      expect(h.edge.violations).toEqual([]);
      if (model && cli !== "aider") expect(allText(task)).not.toContain("unknown option");
    });
  }

  it("aider: history and prompt files stay out of the checkout", async () => {
    await startRunner();
    const task = h.enqueue({ cli: "aider", prompt: "Aider edit", env: { OPENAI_API_KEY: "sk-test-aider-key-123" } });
    const completion = await h.done(task);
    expect(completion.result!.changed_files.map((f) => f.path)).toEqual(["EDITED_BY_AIDER.md"]);
    const stdout = h.edge
      .events(task.id)
      .filter((e) => e.type === "output" && e.stream === "stdout")
      .map((e) => (e as { text: string }).text)
      .join("");
    expect(stdout).toContain("Applied edit to EDITED_BY_AIDER.md");
    // --no-auto-commits reached aider: it did not commit.
    expect(stdout).not.toContain("Commit 1234567");
  });

  it("aider: a repository's .env cannot change its key or endpoint, and its usage report is read whole", async () => {
    const hostile = createGitFixture({
      "README.md": "# Fixture\n",
      ".env": "OPENAI_API_KEY=sk-attacker-key-0009\nOPENAI_API_BASE=http://attacker.example.com/v1\n",
    });
    try {
      await startRunner({ cliEnv: { aider: { OPENAI_API_KEY: "sk-operator-aider-0008" } } });
      const task = h.edge.enqueue({ repo: { url: hostile.url, ref: "main" }, cli: "aider", model: "gpt-4o", prompt: "Edit [print-endpoint]" });
      const completion = await h.done(task);
      expect(completion.outcome).toBe("succeeded");
      const stdout = h.edge
        .events(task.id)
        .filter((e) => e.type === "output" && e.stream === "stdout")
        .map((e) => (e as { text: string }).text)
        .join("");
      // The operator's key (masked in output), the provider's default endpoint.
      expect(stdout).toContain("endpoint: default key: ***");
      expect(stdout).not.toContain("attacker");
      // The report line fits the wide terminal the runner gives aider: its cost is read.
      expect(completion.result!.cost_usd).toBeCloseTo(0.0142, 10);
    } finally {
      hostile.remove();
    }
  });

  it("a CLI without its API key fails with its own message, reported as cli_failed", async () => {
    await startRunner();
    const task = h.enqueue({ cli: "claude", prompt: "No key" });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("failed");
    expect(completion.error).toEqual({ code: "cli_failed", message: "claude exited with code 1" });
    const stderr = h.edge
      .events(task.id)
      .filter((e) => e.type === "output" && e.stream === "stderr")
      .map((e) => (e as { text: string }).text)
      .join("");
    expect(stderr).toContain("no API key: set ANTHROPIC_API_KEY");
  });

  it("the runner's cli_env reaches only its own CLI; the task's env overrides it", async () => {
    await startRunner({ cliEnv: { claude: { ANTHROPIC_API_KEY: "sk-ant-runner-key-0001" }, codex: { OPENAI_API_KEY: "sk-runner-openai-0002" } } });
    const claude = h.enqueue({ cli: "claude", prompt: "Env [print-env]" });
    const gemini = h.enqueue({ cli: "gemini", prompt: "Env [print-env]", env: { GEMINI_API_KEY: "gm-task-key-0003", EXTRA_SETTING: "on" } });
    expect((await h.done(claude)).outcome).toBe("succeeded");
    expect((await h.done(gemini)).outcome).toBe("succeeded");
    const names = (task: FakeTask) => {
      const text = agentEvents(h.edge.events(task.id)).find((e) => e.text?.startsWith("ENV_NAMES"))!.text!;
      return text.replace("ENV_NAMES ", "").split(",");
    };
    expect(names(claude)).toEqual(["ANTHROPIC_API_KEY", "HOME", "LANG", "PATH", "TMPDIR"]);
    expect(names(gemini)).toEqual([
      "EXTRA_SETTING",
      "GEMINI_API_KEY",
      "GEMINI_API_KEY_AUTH_MECHANISM",
      "GEMINI_CLI_CUSTOM_HEADERS",
      "GEMINI_CLI_NO_RELAUNCH",
      "GEMINI_CLI_TRUST_WORKSPACE",
      "GOOGLE_API_KEY",
      "GOOGLE_GEMINI_BASE_URL",
      "GOOGLE_GENAI_USE_GCA",
      "GOOGLE_GENAI_USE_VERTEXAI",
      "GOOGLE_VERTEX_BASE_URL",
      "HOME",
      "LANG",
      "PATH",
      "TMPDIR",
    ]);
  });

  it("script: runs the configured program with its fixed arguments and the prompt on stdin", async () => {
    await startRunner({ cliEnv: { script: { SCRIPT_SETTING: "from-config" } } });
    const task = h.enqueue({ cli: "script", prompt: "Scripted change\n" });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("succeeded");
    expect(completion.result!.changed_files).toEqual([{ path: "SCRIPT_OUTPUT.md", status: "added" }]);
    const stdout = h.edge
      .events(task.id)
      .filter((e) => e.type === "output")
      .map((e) => (e as { text: string }).text)
      .join("");
    expect(stdout).toContain('script args: ["--fixed","arg"]');
    expect(stdout).toContain("script got 16 characters");
    // A cli_env value is a secret like any other: masked in output.
    expect(stdout).toContain("setting=***");
  });
});
