// Unit: where each CLI adapter sends its model calls — the model gateway's upstream, header and
// key, what the CLI is given instead, the hosts named for the egress policy, and a task's env
// that cannot redirect the operator's key.
import { describe, expect, it } from "vitest";
import { createAiderAdapter } from "../../runner/src/cli/aider/aider-adapter.js";
import { createClaudeAdapter } from "../../runner/src/cli/claude/claude-adapter.js";
import { createCodexAdapter } from "../../runner/src/cli/codex/codex-adapter.js";
import { createGeminiAdapter } from "../../runner/src/cli/gemini/gemini-adapter.js";
import { createOpencodeAdapter } from "../../runner/src/cli/opencode/opencode-adapter.js";

describe("CLI adapter model routing", () => {
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
