// Unit: the command each CLI adapter builds — argv without a shell, the prompt where each CLI
// reads it, the autonomy flags, the environment and settings files that keep a run unattended.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createAiderAdapter } from "../../runner/src/cli/aider/aider-adapter.js";
import { createClaudeAdapter } from "../../runner/src/cli/claude/claude-adapter.js";
import { createCodexAdapter } from "../../runner/src/cli/codex/codex-adapter.js";
import { createGeminiAdapter } from "../../runner/src/cli/gemini/gemini-adapter.js";
import { createOpencodeAdapter } from "../../runner/src/cli/opencode/opencode-adapter.js";

describe("CLI adapter commands", () => {
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
});
