// Integration: the real Claude Code, Codex and Gemini CLI (pinned dev dependencies) against the
// model gateway when the task's budget is already spent. Each gets its provider's refusal once,
// shows its message and stops: none retries it (a retried refusal would burn the CLI's retry
// budget and hide the reason behind a generic "retries exhausted"). The gateway is reached
// over a real socket, as the egress proxy hands it requests.
import { execa } from "execa";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createModelGateway, type ModelUpstream } from "../../runner/src/sandbox/model-gateway.js";
import { REAL_CLI_BIN } from "./harness/real-cli.js";

const REASON = "CodeForge budget exceeded: spent $2.00 of $1.00";
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup.splice(0)) done();
});

/** A gateway whose budget earlier attempts spent, served on 127.0.0.1; every model call it saw, by body. */
async function spentGateway(header: ModelUpstream["header"]) {
  const reasons: string[] = [];
  // The upstream is never called: nothing listens on port 9 of this machine anyway.
  const gateway = createModelGateway({
    upstream: { baseUrl: "http://127.0.0.1:9", header, key: "sk-operator-key-never-used" },
    budget: { maxCostUsd: 1, maxTokens: null, spentCostUsd: 2, spentTokens: 0 },
    onBudgetExceeded: (reason) => reasons.push(reason),
  });
  const calls: { path: string; body: string; status: number }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("finish", () => calls.push({ path: req.url!, body: createHash("sha256").update(Buffer.concat(chunks)).digest("hex"), status: res.statusCode }));
    gateway.handle(req, res, req.url!);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => server.close());
  const home = mkdtempSync(path.join(os.tmpdir(), "cf-gateway-cli-"));
  cleanup.push(() => rmSync(home, { recursive: true, force: true }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  /** Model calls refused for the budget, and how often the CLI sent the same one. */
  const refusals = () => {
    const refused = calls.filter((c) => c.status !== 401);
    return { count: refused.length, repeats: refused.length - new Set(refused.map((c) => c.body)).size };
  };
  return { gateway, url, home, reasons, refusals };
}

const run = (command: string, args: string[], env: Record<string, string>, cwd: string) =>
  execa(path.join(REAL_CLI_BIN, command), args, {
    env: { PATH: process.env.PATH ?? "", HOME: cwd, TMPDIR: cwd, ...env },
    extendEnv: false,
    cwd,
    reject: false,
    timeout: 60_000,
    stdin: "ignore",
    all: true,
  });

describe("real CLIs past the budget", () => {
  it("Claude Code shows the 402 once", async () => {
    const { gateway, url, home, reasons, refusals } = await spentGateway("x-api-key");
    const result = await run(
      "claude",
      ["-p", "--output-format", "stream-json", "--verbose", "say hi"],
      { ANTHROPIC_BASE_URL: url, ANTHROPIC_API_KEY: gateway.placeholder },
      home,
    );
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toContain(`"result":"API Error: 402 ${REASON}"`);
    expect(refusals()).toEqual({ count: 1, repeats: 0 });
    expect(reasons).toEqual([REASON]);
  });

  it("Codex shows the 400 once", async () => {
    const { gateway, url, home, reasons, refusals } = await spentGateway("authorization");
    mkdirSync(path.join(home, ".codex"));
    const provider = `model_providers.gateway={ name = "gateway", base_url = "${url}/v1", env_key = "OPENAI_API_KEY", wire_api = "responses" }`;
    const result = await run(
      "codex",
      ["exec", "--json", "--color", "never", "--skip-git-repo-check", "-c", 'model_provider="gateway"', "-c", provider, "say hi"],
      { OPENAI_API_KEY: gateway.placeholder, CODEX_HOME: path.join(home, ".codex") },
      home,
    );
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/"type":"turn\.failed".*CodeForge budget exceeded: spent \$2\.00 of \$1\.00/);
    expect(refusals()).toEqual({ count: 1, repeats: 0 });
    expect(reasons).toEqual([REASON]);
  });

  it("Gemini CLI shows the 400 and sends no call twice", async () => {
    const { gateway, url, home, reasons, refusals } = await spentGateway("x-goog-api-key");
    mkdirSync(path.join(home, ".gemini"));
    writeFileSync(path.join(home, ".gemini", "settings.json"), JSON.stringify({ security: { auth: { selectedType: "gemini-api-key" } } }));
    const result = await run(
      "gemini",
      ["--output-format", "stream-json", "--approval-mode", "yolo", "--prompt", "say hi"],
      { GOOGLE_GEMINI_BASE_URL: url, GEMINI_API_KEY: gateway.placeholder, GEMINI_CLI_TRUST_WORKSPACE: "true" },
      home,
    );
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/"type":"result","timestamp":"[^"]+","status":"error".*CodeForge budget exceeded: spent \$2\.00 of \$1\.00/);
    // Its model router's call and the turn's call: different calls, each sent once.
    expect(refusals().repeats).toBe(0);
    expect(refusals().count).toBeGreaterThanOrEqual(1);
    expect(reasons).toEqual([REASON]);
  });
});
