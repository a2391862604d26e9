// Integration: the real Claude Code (the npm package, pinned) run by the real runner in the real
// bubblewrap sandbox, against a local fake of Anthropic's Messages API reached through the
// runner's model gateway. With full autonomy it runs the shell command the model asks for and
// writes the file; asking for edits only, the same command is refused. The operator's key never
// enters the sandbox: the fake API receives it, the agent's own shell sees only a placeholder.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AgentEvent } from "../../api/index.js";
import { Registry } from "prom-client";
import { createClaudeAdapter } from "../../runner/src/cli/claude.js";
import { createRunnerMetrics } from "../../runner/src/runner-metrics.js";
import type { LeaseLoop } from "../../runner/src/lease-loop.js";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.js";
import { startFakeEdge, type FakeEdge } from "./fake-edge.js";
import { createGitFixture, type GitFixture } from "./git-fixture.js";
import { SYSTEM_PATH, startTestRunner } from "./test-runner.js";

const BIN = fileURLToPath(new URL("../../node_modules/.bin", import.meta.url));
const PATH_ENV = `${BIN}:${SYSTEM_PATH}`;
const OPERATOR_KEY = "sk-ant-api03-operator-key-for-the-fake-api-0001";
const COMMAND = "node -e \"console.log('the agent ran node:', 6 * 7)\" && printenv ANTHROPIC_API_KEY ANTHROPIC_BASE_URL";

let fixture: GitFixture;
let edge: FakeEdge;
let api: FakeAnthropic;
let loop: LeaseLoop | undefined;
let workspaceRoot: string;
let register: Registry;

beforeAll(async () => {
  fixture = createGitFixture();
  api = await startFakeAnthropic([
    { tool: "Bash", input: { command: COMMAND, description: "Run node" } },
    { tool: "Write", input: { file_path: "/workspace/AGENT_NOTES.md", content: "Written by the agent.\n" } },
    { text: "I ran node and wrote AGENT_NOTES.md." },
  ]);
});
afterAll(async () => {
  await api.close();
  fixture.remove();
});
afterEach(async () => {
  await loop?.stop(2_000);
  loop = undefined;
  await edge?.close();
  rmSync(workspaceRoot, { recursive: true, force: true });
});

async function runClaude(autonomy: "full" | "edits") {
  edge = await startFakeEdge({ heartbeatIntervalMs: 500 });
  workspaceRoot = mkdtempSync(path.join(os.tmpdir(), "codeforge-claude-"));
  register = new Registry();
  const claude = createClaudeAdapter({
    pathEnv: PATH_ENV,
    probeTimeoutMs: 20_000,
    env: { ANTHROPIC_API_KEY: OPERATOR_KEY, ANTHROPIC_BASE_URL: api.url, DISABLE_TELEMETRY: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },
  });
  ({ loop } = await startTestRunner({
    edge,
    workspaceRoot,
    runnerId: "claude-runner",
    adapters: [claude],
    pathEnv: PATH_ENV,
    sandbox: "bubblewrap",
    // The fake API listens on the host's loopback, which the sandbox may not reach: only the
    // runner's gateway calls it.
    taskRunner: { egress: { allow: [], allowedNetworks: [] }, metrics: createRunnerMetrics({ register, workspaceRoot }) },
  }));
  const before = api.requests.length;
  const task = edge.enqueue({ repo: { url: fixture.url, ref: "main" }, cli: "claude", prompt: "Run node, then write AGENT_NOTES.md", autonomy, timeout_seconds: 120 });
  const completion = await edge.waitFor(() => task.completion, 90_000);
  const events = edge.events(task.id);
  return { task, completion, events, requests: api.requests.slice(before) };
}

describe.skipIf(process.platform !== "linux")("the real Claude Code in the sandbox", () => {
  it("with full autonomy runs the shell command and edits the file; the key reached only the API", async () => {
    const { completion, events, requests } = await runClaude("full");
    expect(completion.error).toBeNull();
    expect(completion.outcome).toBe("succeeded");
    expect(completion.result?.sandbox).toBe("bubblewrap");
    expect(completion.result?.changed_files).toEqual([{ path: "AGENT_NOTES.md", status: "added" }]);
    // The command ran inside the sandbox and its output went back to the model.
    const agentRequests = requests.filter((r) => r.withTools);
    const shell = agentRequests.flatMap((r) => r.toolResults).join("\n");
    expect(shell).toContain("the agent ran node: 42");
    // What the agent's own shell sees: the gateway and a placeholder, not the operator's key.
    expect(shell).toMatch(/^cf-gateway-[0-9a-f]{36}$/m);
    expect(shell).toContain("http://model-gateway.codeforge.invalid");
    expect(shell).not.toContain(OPERATOR_KEY);
    // The gateway counted every call the provider billed, side calls included.
    expect(completion.result?.usage).toEqual({ input_tokens: 100 * requests.length, output_tokens: 20 * requests.length, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    const metrics = await register.metrics();
    const model = requests[0]!.model;
    expect(metrics).toContain(`codeforge_runner_model_tokens_total{cli="claude",model="${model}",kind="input"} ${100 * requests.filter((r) => r.model === model).length}`);
    const calls = [...metrics.matchAll(/^codeforge_runner_model_calls_total\{cli="claude",model="[^"]+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(calls).toBe(requests.length);
    const toolUses = events.filter((e): e is AgentEvent => e.type === "agent" && e.kind === "tool_use").map((e) => e.tool);
    expect(toolUses).toEqual(["Bash", "Write"]);
    expect(requests.every((r) => r.key === OPERATOR_KEY)).toBe(true);
    expect(JSON.stringify(events)).not.toContain(OPERATOR_KEY);
  }, 120_000);

  it("asking for edits only, the same shell command is refused", async () => {
    const { completion, requests } = await runClaude("edits");
    const results = requests.filter((r) => r.withTools).flatMap((r) => r.toolResults).join("\n");
    expect(results).toMatch(/require approval|requires approval/);
    expect(results).not.toContain("the agent ran node: 42");
    expect(completion.result?.changed_files).toEqual([{ path: "AGENT_NOTES.md", status: "added" }]);
  }, 120_000);
});
