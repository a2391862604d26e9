// The runner settings `npm start` passes on from its environment (scripts/runner-settings.ts).
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../runner/src/config.js";
import { callerRunnerSettings } from "../../scripts/runner-settings.js";

describe("npm start's runner settings", () => {
  const caller = {
    HOME: "/home/me",
    CODEFORGE_CLIS: "claude,demo",
    CODEFORGE_CLI_ENV_CLAUDE_ANTHROPIC_API_KEY: "sk-ant-local",
    CODEFORGE_CONCURRENCY: "1",
    CODEFORGE_SANDBOX: "none",
    CODEFORGE_ADMIN_KEY: "cf_admin_for_the_edge_only",
    CODEFORGE_START_DEMO: "0",
    CODEFORGE_EDGE_URL: "https://elsewhere.example",
    CODEFORGE_WORKSPACE_ROOT: "/somewhere/else",
  };

  it("passes on the runner's own settings and CLI keys, not the edge's or the stack's own", () => {
    expect(callerRunnerSettings(caller)).toEqual({
      CODEFORGE_CLIS: "claude,demo",
      CODEFORGE_CLI_ENV_CLAUDE_ANTHROPIC_API_KEY: "sk-ant-local",
      CODEFORGE_CONCURRENCY: "1",
      CODEFORGE_SANDBOX: "none",
    });
  });

  it("gives the runner what it reads: its configuration takes every setting passed on", () => {
    const config = loadConfig({
      argv: [],
      env: { ...callerRunnerSettings(caller), CODEFORGE_EDGE_URL: "http://127.0.0.1:8787", CODEFORGE_RUNNER_SECRET: "a-secret-of-enough-length" },
      readFile: () => "",
    });
    expect(config.clis).toEqual(["claude", "demo"]);
    expect(config.cli_env.claude).toEqual({ ANTHROPIC_API_KEY: "sk-ant-local" });
    expect(config.concurrency).toBe(1);
    expect(config.sandbox).toBe("none");
  });
});
