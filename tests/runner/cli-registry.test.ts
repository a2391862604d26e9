// Integration: which CLIs the registry advertises, probing each adapter's binary with
// --version — the stand-ins of tests/runner/fixtures/bin on PATH, and scripts that hang or fail.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createClaudeAdapter } from "../../runner/src/cli/claude/claude-adapter.js";
import { createCodexAdapter } from "../../runner/src/cli/codex/codex-adapter.js";
import { configuredAdapters } from "../../runner/src/cli/configured-adapters.js";
import { createCliRegistry } from "../../runner/src/cli/registry.js";
import { EDIT_FILE_SCRIPT, STAND_IN_PATH, SYSTEM_PATH } from "./harness/test-runner.js";

describe("CLI registry", () => {
  it("advertises only the CLIs whose binaries answer --version", async () => {
    const withStandIns = await createCliRegistry(
      configuredAdapters({ clis: undefined, cli_env: {}, script_command: EDIT_FILE_SCRIPT, script_args: [] }, STAND_IN_PATH),
    );
    expect(withStandIns.names().sort()).toEqual(["aider", "claude", "codex", "demo", "gemini", "opencode", "script"]);
    const without = await createCliRegistry(configuredAdapters({ clis: undefined, cli_env: {}, script_command: undefined, script_args: [] }, SYSTEM_PATH));
    expect(without.names()).toEqual(["demo"]);
    const narrowed = await createCliRegistry(configuredAdapters({ clis: ["codex"], cli_env: {}, script_command: undefined, script_args: [] }, STAND_IN_PATH));
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
        createClaudeAdapter({ pathEnv: `${dir}:${SYSTEM_PATH}`, probeTimeoutMs: 300 }),
        createCodexAdapter({ pathEnv: `${dir}:${SYSTEM_PATH}` }),
      ]);
      expect(registry.names()).toEqual([]);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
