// Integration: each CLI adapter driving a stand-in of its CLI (tests/runner/fixtures/bin/*),
// through the real runner against the fake edge. The stand-ins check their argv the way the
// real CLIs do (unknown flags refused, the prompt where the real one reads it, the API key
// in the environment) and print the real output format, so the adapters are what is tested.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { AgentEvent, CliName, TokenUsage } from "#api/index.js";
import { createAiderAdapter } from "../../runner/src/cli/aider/aider-adapter.js";
import { createClaudeAdapter } from "../../runner/src/cli/claude/claude-adapter.js";
import { createCodexAdapter } from "../../runner/src/cli/codex/codex-adapter.js";
import { createGeminiAdapter } from "../../runner/src/cli/gemini/gemini-adapter.js";
import { createOpencodeAdapter } from "../../runner/src/cli/opencode/opencode-adapter.js";
import { configuredAdapters } from "../../runner/src/cli/configured-adapters.js";
import { createCliRegistry } from "../../runner/src/cli/registry.js";
import { agentEvents } from "./harness/events.js";
import type { FakeTask } from "./harness/fake-edge.js";
import { createGitFixture } from "./harness/git-fixture.js";
import { STAND_IN_PATH, SYSTEM_PATH } from "./harness/test-runner.js";
import { useRunner } from "./harness/use-runner.js";

const SCRIPT = fileURLToPath(new URL("./fixtures/script/edit-file", import.meta.url));
const BASE_PATH = SYSTEM_PATH;
const WITH_STAND_INS = STAND_IN_PATH;

const h = useRunner();

async function startRunner(options: { cliEnv?: Partial<Record<CliName, Record<string, string>>>; stallTimeoutSeconds?: number } = {}) {
  const runner = await h.start({
    runnerId: "cli-runner",
    adapters: configuredAdapters({ clis: undefined, cli_env: options.cliEnv ?? {}, script_command: SCRIPT, script_args: ["--fixed", "arg"] }, WITH_STAND_INS),
    pathEnv: WITH_STAND_INS,
    taskRunner: { stallTimeoutSeconds: options.stallTimeoutSeconds },
  });
  return runner.registry;
}

const allText = (task: FakeTask) => JSON.stringify(h.edge.events(task.id)) + JSON.stringify(task.completion);

describe("CLI registry", () => {
  it("advertises only the CLIs whose binaries answer --version", async () => {
    const withStandIns = await createCliRegistry(configuredAdapters({ clis: undefined, cli_env: {}, script_command: SCRIPT, script_args: [] }, WITH_STAND_INS));
    expect(withStandIns.names().sort()).toEqual(["aider", "claude", "codex", "demo", "gemini", "opencode", "script"]);
    const without = await createCliRegistry(configuredAdapters({ clis: undefined, cli_env: {}, script_command: undefined, script_args: [] }, BASE_PATH));
    expect(without.names()).toEqual(["demo"]);
    const narrowed = await createCliRegistry(configuredAdapters({ clis: ["codex"], cli_env: {}, script_command: undefined, script_args: [] }, WITH_STAND_INS));
    expect(narrowed.names()).toEqual(["codex"]);
  });

  it("counts a binary that hangs on --version, or fails it, as missing", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "codeforge-probe-"));
    try {
      writeFileSync(path.join(dir, "claude"), "#!/bin/sh\nsleep 30\n");
      writeFileSync(path.join(dir, "codex"), "#!/bin/sh\necho broken >&2\nexit 1\n");
      chmodSync(path.join(dir, "claude"), 0o755);
      chmodSync(path.join(dir, "codex"), 0o755);
      const started = Date.now();
      const registry = await createCliRegistry([
        createClaudeAdapter({ pathEnv: `${dir}:${BASE_PATH}`, probeTimeoutMs: 300 }),
        createCodexAdapter({ pathEnv: `${dir}:${BASE_PATH}` }),
      ]);
      expect(registry.names()).toEqual([]);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("builds argv without a shell, the prompt never on it, the model where each CLI takes it", () => {
    const scratchDir = "/scratch";
    const invocation = { prompt: "Fix it; rm -rf / `id`", model: "m-1", scratchDir, autonomy: "edits" as const };
    const claude = createClaudeAdapter({ pathEnv: "" }).command(invocation);
    expect(claude).toEqual({
      command: "claude",
      args: ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "acceptEdits", "--model", "m-1"],
      stdin: invocation.prompt,
    });
    const aider = createAiderAdapter({ pathEnv: "" }).command(invocation);
    expect(aider.args).not.toContain(invocation.prompt);
    expect(aider.stdin).toBeUndefined();
    expect(aider.files).toMatchObject({ "aider-prompt.md": invocation.prompt });
    expect(aider.args).toEqual(expect.arrayContaining(["--env-file", path.join(scratchDir, "aider.env")]));
    expect(aider.args.slice(0, 2)).toEqual(["--message-file", path.join(scratchDir, "aider-prompt.md")]);
    expect(
      createCodexAdapter({ pathEnv: "" })
        .command({ ...invocation, model: null })
        .args.at(-1),
    ).toBe("-");
  });

  it("gives each CLI its full-autonomy mode, and the narrow one when a task asks for edits only", () => {
    const base = { prompt: "p", model: null, scratchDir: "/scratch" };
    const args = (adapter: { command: (i: typeof base & { autonomy: "full" | "edits" }) => { args: string[] } }, autonomy: "full" | "edits") =>
      adapter.command({ ...base, autonomy }).args;
    const claude = createClaudeAdapter({ pathEnv: "" });
    expect(args(claude, "full")).toContain("bypassPermissions");
    expect(args(claude, "edits")).toContain("acceptEdits");
    const codex = createCodexAdapter({ pathEnv: "" });
    expect(args(codex, "full")).toContain("--dangerously-bypass-approvals-and-sandbox");
    expect(args(codex, "edits")).toEqual(expect.arrayContaining(["--sandbox", "workspace-write"]));
    expect(args(codex, "edits")).not.toContain("--dangerously-bypass-approvals-and-sandbox");
    const gemini = createGeminiAdapter({ pathEnv: "" });
    expect(args(gemini, "full").join(" ")).toContain("--approval-mode yolo");
    expect(args(gemini, "edits").join(" ")).toContain("--approval-mode auto_edit");
    expect(gemini.command({ ...base, autonomy: "full" }).env).toMatchObject({ GEMINI_CLI_TRUST_WORKSPACE: "true" });
    const opencode = createOpencodeAdapter({ pathEnv: "" });
    // Always --auto (without it a request that would ask is rejected and the run "succeeds" doing
    // nothing); edits only denies its shell and edits outside the checkout.
    expect(args(opencode, "full")).toContain("--auto");
    expect(args(opencode, "edits")).toContain("--auto");
    expect(opencode.command({ ...base, autonomy: "full" }).env?.OPENCODE_PERMISSION).toBeUndefined();
    expect(JSON.parse(opencode.command({ ...base, autonomy: "edits" }).env!.OPENCODE_PERMISSION!)).toEqual({ bash: "deny", external_directory: "deny" });
    const aider = createAiderAdapter({ pathEnv: "" });
    expect(args(aider, "full")).toContain("--yes-always");
    expect(args(aider, "edits")).toContain("--no-suggest-shell-commands");
  });

  it("sets up Gemini CLI and opencode to run unattended, whatever the repository holds", () => {
    const base = { prompt: "p", model: null, scratchDir: "/scratch", autonomy: "full" as const };
    const gemini = createGeminiAdapter({ pathEnv: "" }).command(base);
    const settings = JSON.parse(gemini.homeFiles![".gemini/settings.json"]!);
    expect(settings.security.auth.selectedType).toBe("gemini-api-key");
    expect(settings).toMatchObject({
      telemetry: { enabled: false },
      privacy: { usageStatisticsEnabled: false },
      ide: { enabled: false },
      general: { enableAutoUpdate: false },
    });
    // Set, so a repository's .env (which never overrides a set variable) cannot change them.
    expect(gemini.env).toMatchObject({
      GOOGLE_GEMINI_BASE_URL: "https://generativelanguage.googleapis.com",
      GOOGLE_GENAI_USE_VERTEXAI: "false",
      GEMINI_API_KEY_AUTH_MECHANISM: "x-goog-api-key",
    });
    expect(createOpencodeAdapter({ pathEnv: "" }).command(base).env).toMatchObject({
      OPENCODE_DISABLE_PROJECT_CONFIG: "1",
      OPENCODE_DISABLE_MODELS_FETCH: "1",
    });
    // GOOGLE_API_KEY stands in for GEMINI_API_KEY, which is all Gemini CLI reads.
    expect(createGeminiAdapter({ pathEnv: "", env: { GOOGLE_API_KEY: "g-key" } }).env()).toEqual({ GOOGLE_API_KEY: "g-key", GEMINI_API_KEY: "g-key" });
  });

  it("routes each CLI's model calls through the gateway with the provider's own header", () => {
    const plan = (
      adapter: { modelGateway?: (env: Record<string, string>, model?: string | null) => unknown },
      env: Record<string, string>,
      model: string | null = null,
    ) =>
      adapter.modelGateway!(env, model) as {
        upstream: { baseUrl: string; header: string; key: string };
        hide: string[];
        env: (u: string, p: string) => Record<string, string>;
      } | null;
    const gemini = plan(createGeminiAdapter({ pathEnv: "" }), { GEMINI_API_KEY: "g-key" })!;
    expect(gemini.upstream).toEqual({ baseUrl: "https://generativelanguage.googleapis.com", header: "x-goog-api-key", key: "g-key" });
    expect(gemini.env("http://gw.invalid", "ph")).toEqual({ GOOGLE_GEMINI_BASE_URL: "http://gw.invalid", GEMINI_API_KEY: "ph" });
    const opencode = createOpencodeAdapter({ pathEnv: "" });
    const both = { ANTHROPIC_API_KEY: "a-key", OPENAI_API_KEY: "o-key", OPENAI_BASE_URL: "https://llm.example.com/v1" };
    expect(plan(opencode, both, "openai/gpt-5")!.upstream).toEqual({ baseUrl: "https://llm.example.com", header: "authorization", key: "o-key" });
    const anthropic = plan(opencode, both, "anthropic/claude-sonnet-4-5")!;
    expect(anthropic.upstream).toEqual({ baseUrl: "https://api.anthropic.com", header: "x-api-key", key: "a-key" });
    const config = JSON.parse(anthropic.env("http://gw.invalid", "ph").OPENCODE_CONFIG_CONTENT!);
    expect(config).toEqual({ provider: { anthropic: { options: { baseURL: "http://gw.invalid/v1", apiKey: "ph" } } } });
    // Without a model: the provider with a key, and only it.
    expect(JSON.parse(plan(opencode, { OPENAI_API_KEY: "o-key" })!.env("http://gw.invalid", "ph").OPENCODE_CONFIG_CONTENT!).enabled_providers).toEqual([
      "openai",
    ]);
    expect(plan(opencode, both, "openrouter/some-model")).toBeNull();
    const aider = createAiderAdapter({ pathEnv: "" });
    expect(plan(aider, both, "sonnet")!.upstream.header).toBe("x-api-key");
    expect(plan(aider, { OPENAI_API_KEY: "o-key", OPENAI_API_BASE: "https://llm.example.com/v1" }, "gpt-4o")!.env("http://gw.invalid", "ph")).toEqual({
      OPENAI_API_KEY: "ph",
      OPENAI_API_BASE: "http://gw.invalid/v1",
      OPENAI_BASE_URL: "http://gw.invalid/v1",
    });
    expect(plan(aider, both, "deepseek/deepseek-chat")).toBeNull();
  });

  it("names each CLI's model API host for the egress policy, and a configured base URL's host", () => {
    expect(createClaudeAdapter({ pathEnv: "" }).egressHosts()).toEqual(["api.anthropic.com"]);
    expect(createClaudeAdapter({ pathEnv: "", env: { ANTHROPIC_BASE_URL: "https://llm.internal.example:8443/v1" } }).egressHosts()).toEqual([
      "api.anthropic.com",
      "llm.internal.example:8443",
    ]);
    expect(createCodexAdapter({ pathEnv: "", env: { OPENAI_BASE_URL: "https://gw.example.com" } }).egressHosts()).toEqual(["api.openai.com", "gw.example.com"]);
    expect(createGeminiAdapter({ pathEnv: "" }).egressHosts()).toEqual(["generativelanguage.googleapis.com"]);
  });

  it("codex: its settings file names the configured endpoint and key variable, and turns off what calls elsewhere", () => {
    const base = { prompt: "p", model: null, scratchDir: "/scratch", autonomy: "full" as const };
    const settings = (env?: Record<string, string>) => createCodexAdapter({ pathEnv: "", env }).command(base).homeFiles?.[".codex/config.toml"] ?? "";
    const byDefault = settings();
    expect(byDefault).toContain('model_provider = "codeforge"');
    expect(byDefault).toContain('base_url = "https://api.openai.com/v1"');
    expect(byDefault).toContain('env_key = "OPENAI_API_KEY"');
    expect(byDefault).toContain('wire_api = "responses"');
    for (const off of ["check_for_update_on_startup = false", "[features]\nplugins = false", "[analytics]\nenabled = false", '[otel]\nexporter = "none"'])
      expect(byDefault).toContain(off);
    const configured = settings({ CODEX_API_KEY: "sk-codex-0001", OPENAI_BASE_URL: 'https://llm.example.com/v1/"x"' });
    expect(configured).toContain('base_url = "https://llm.example.com/v1/\\"x\\""');
    expect(configured).toContain('env_key = "CODEX_API_KEY"');
    expect(configured).not.toContain("sk-codex-0001");
  });

  it("codex: through the gateway the key and endpoint stay with the runner; Codex gets the gateway and a placeholder", () => {
    const codex = createCodexAdapter({ pathEnv: "" });
    expect(codex.modelGateway?.({})).toBeNull();
    expect(codex.modelGateway?.({ OPENAI_BASE_URL: "https://llm.example.com/v1" })).toBeNull();
    const plan = codex.modelGateway!({ CODEX_API_KEY: "sk-codex-0002", OPENAI_BASE_URL: "https://llm.example.com/v1", CODEX_HOME: "/workspace/.elsewhere" })!;
    expect(plan.upstream).toEqual({ baseUrl: "https://llm.example.com/v1", header: "authorization", key: "sk-codex-0002" });
    expect([...plan.hide].sort()).toEqual(["CODEX_API_KEY", "CODEX_HOME", "OPENAI_API_KEY", "OPENAI_BASE_URL"]);
    expect(plan.env("http://gateway.example", "cf-placeholder")).toEqual({ OPENAI_API_KEY: "cf-placeholder" });
    const file = plan.homeFiles!("http://gateway.example", "cf-placeholder")[".codex/config.toml"]!;
    expect(file).toContain('base_url = "http://gateway.example"');
    expect(file).toContain('env_key = "OPENAI_API_KEY"');
    expect(file).not.toContain("sk-codex-0002");
    expect(file).not.toContain("cf-placeholder");
    // OPENAI_API_KEY is preferred when both are set; the default endpoint is OpenAI's.
    expect(codex.modelGateway!({ OPENAI_API_KEY: "sk-openai-0003", CODEX_API_KEY: "sk-codex-0004" })!.upstream).toEqual({
      baseUrl: "https://api.openai.com/v1",
      header: "authorization",
      key: "sk-openai-0003",
    });
  });

  it("a task's env cannot send the operator's key to another endpoint; with its own key it may name its own", () => {
    // What the task runner hands the plan: the CLI's cli_env with the task's env laid over it.
    const codex = createCodexAdapter({ pathEnv: "", env: { OPENAI_API_KEY: "sk-operator-0005", OPENAI_BASE_URL: "https://llm.example.com/v1" } });
    expect(codex.modelGateway!({ OPENAI_API_KEY: "sk-operator-0005", OPENAI_BASE_URL: "https://collector.example.net/v1" })!.upstream.baseUrl).toBe(
      "https://llm.example.com/v1",
    );
    expect(codex.modelGateway!({ OPENAI_API_KEY: "sk-task-0006", OPENAI_BASE_URL: "https://own.example.net/v1" })!.upstream).toEqual({
      baseUrl: "https://own.example.net/v1",
      header: "authorization",
      key: "sk-task-0006",
    });
    const claude = createClaudeAdapter({ pathEnv: "", env: { ANTHROPIC_API_KEY: "sk-ant-operator-0007" } });
    expect(claude.modelGateway!({ ANTHROPIC_API_KEY: "sk-ant-operator-0007", ANTHROPIC_BASE_URL: "https://collector.example.net" })!.upstream.baseUrl).toBe(
      "https://api.anthropic.com",
    );
    expect(claude.modelGateway!({ ANTHROPIC_API_KEY: "sk-ant-task-0008", ANTHROPIC_BASE_URL: "https://own.example.net" })!.upstream).toEqual({
      baseUrl: "https://own.example.net",
      header: "x-api-key",
      key: "sk-ant-task-0008",
    });
    const gemini = createGeminiAdapter({ pathEnv: "", env: { GEMINI_API_KEY: "gm-operator-0009" } });
    expect(gemini.modelGateway!({ GEMINI_API_KEY: "gm-operator-0009", GOOGLE_GEMINI_BASE_URL: "https://collector.example.net" })!.upstream.baseUrl).toBe(
      "https://generativelanguage.googleapis.com",
    );
    expect(gemini.modelGateway!({ GEMINI_API_KEY: "gm-task-0010", GOOGLE_GEMINI_BASE_URL: "https://own.example.net" })!.upstream.baseUrl).toBe(
      "https://own.example.net",
    );
    const opencode = createOpencodeAdapter({
      pathEnv: "",
      env: { ANTHROPIC_API_KEY: "sk-ant-operator-0011", ANTHROPIC_BASE_URL: "https://llm.example.com/v1" },
    });
    expect(
      opencode.modelGateway!(
        { ANTHROPIC_API_KEY: "sk-ant-operator-0011", ANTHROPIC_BASE_URL: "https://collector.example.net/v1" },
        "anthropic/claude-sonnet-4-5",
      )!.upstream.baseUrl,
    ).toBe("https://llm.example.com");
    const aider = createAiderAdapter({ pathEnv: "", env: { OPENAI_API_KEY: "sk-operator-0012" } });
    expect(aider.modelGateway!({ OPENAI_API_KEY: "sk-operator-0012", OPENAI_API_BASE: "https://collector.example.net/v1" }, "gpt-4o")!.upstream.baseUrl).toBe(
      "https://api.openai.com",
    );
    expect(aider.modelGateway!({ OPENAI_API_KEY: "sk-task-0013", OPENAI_API_BASE: "https://own.example.net/v1" }, "gpt-4o")!.upstream.baseUrl).toBe(
      "https://own.example.net",
    );
  });
});

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
