// Integration: the real entry point as a child process (`node --import tsx runner/src/main.ts`)
// against the fake edge: start-up, health endpoints, one task, JSON logs, graceful SIGTERM.
import { execa } from "execa";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeEdge, type FakeEdge } from "./harness/fake-edge.js";
import { createGitFixture, type GitFixture } from "./harness/git-fixture.js";
import { SYSTEM_PATH } from "./harness/test-runner.js";

const MAIN = fileURLToPath(new URL("../../runner/src/main.ts", import.meta.url));
let fixture: GitFixture;
let edge: FakeEdge;
let workspaceRoot: string;

beforeAll(async () => {
  fixture = createGitFixture();
  edge = await startFakeEdge({ heartbeatIntervalMs: 200 });
  workspaceRoot = mkdtempSync(path.join(os.tmpdir(), "codeforge-main-"));
});
afterAll(async () => {
  await edge.close();
  fixture.remove();
  rmSync(workspaceRoot, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function baseEnv(extra: Record<string, string>) {
  return { PATH: SYSTEM_PATH, HOME: os.tmpdir(), ...extra };
}

describe("runner main", () => {
  it("exits 1 with a clear message on bad configuration, without printing the secret", async () => {
    const result = await execa(process.execPath, ["--import", "tsx", MAIN], {
      env: baseEnv({ CODEFORGE_RUNNER_SECRET: "sekrit", CODEFORGE_CONCURRENCY: "zero" }),
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("edge_url (CODEFORGE_EDGE_URL): is required");
    expect(result.stderr).toContain("concurrency (CODEFORGE_CONCURRENCY): must be a whole number");
    expect(result.stderr + result.stdout).not.toContain("sekrit");
  });

  it("serves health endpoints, runs a task, logs JSON lines, and drains on SIGTERM", async () => {
    const port = await freePort();
    const child = execa(process.execPath, ["--import", "tsx", MAIN], {
      env: baseEnv({
        CODEFORGE_EDGE_URL: edge.url,
        CODEFORGE_RUNNER_SECRET: edge.secret,
        CODEFORGE_RUNNER_ID: "main-test-runner",
        CODEFORGE_LOCAL_MODE: "true",
        CODEFORGE_WORKSPACE_ROOT: workspaceRoot,
        CODEFORGE_HEALTH_PORT: String(port),
        CODEFORGE_HEALTH_HOST: "127.0.0.1",
        CODEFORGE_LEASE_WAIT_MS: "1000",
        CODEFORGE_GIT_ALLOWED_NETWORKS: "127.0.0.2",
      }),
      extendEnv: false,
      reject: false,
      all: true,
    });
    const lines: Record<string, unknown>[] = [];
    let raw = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      raw += chunk.toString();
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        try {
          lines.push(JSON.parse(line));
        } catch {
          lines.push({ unparsed: line });
        }
      }
    });
    try {
      await edge.waitFor(() => lines.some((l) => l.msg === "runner started"), 15_000);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      // Ready once the edge answered a poll (an empty long poll of 1 s counts).
      await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status, { timeout: 10_000 }).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(await ready.json()).toMatchObject({ status: "ready", concurrency: 2, last_edge_contact_at: expect.any(String) });

      const task = edge.enqueue({ repo: { url: fixture.url, ref: null }, prompt: "From main" });
      const completion = await edge.waitFor(() => task.completion, 15_000);
      expect(completion.outcome).toBe("succeeded");
      expect(edge.leaseRequests.at(-1)).toMatchObject({ runner_id: "main-test-runner", clis: ["demo"], wait_ms: 1000 });
      await expect
        .poll(async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text())
        .toContain('codeforge_runner_tasks_total{outcome="succeeded",cli="demo"} 1');
      const metricsText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metricsText).toMatch(/codeforge_workspace_disk_usage_bytes \d+/);
      expect(metricsText).toContain('codeforge_runner_phase_duration_seconds_count{phase="clone"} 1');
      expect(metricsText).toContain('codeforge_runner_phase_duration_seconds_count{phase="run"} 1');
      expect(metricsText).toContain("codeforge_runner_lease_errors_total 0");

      // CODEFORGE_GIT_ALLOWED_NETWORKS reaches git: 127.0.0.2 passes the host check (and then
      // finds nothing listening), 127.0.0.3 is still refused before git runs.
      const allowed = edge.enqueue({ repo: { url: "https://127.0.0.2:9/o/r.git", ref: null }, prompt: "Allowed network" });
      const refused = edge.enqueue({ repo: { url: "https://127.0.0.3:9/o/r.git", ref: null }, prompt: "Other loopback" });
      const [allowedEnd, refusedEnd] = [await edge.waitFor(() => allowed.completion, 15_000), await edge.waitFor(() => refused.completion, 15_000)];
      expect(allowedEnd.error?.message).toMatch(/127\.0\.0\.2/);
      expect(allowedEnd.error?.message).not.toMatch(/non-public/);
      expect(refusedEnd.error?.message).toMatch(/127\.0\.0\.3, a non-public address: loopback/);

      child.kill("SIGTERM");
      const result = await child;
      expect(result.exitCode).toBe(0);
      expect(lines.every((l) => !("unparsed" in l))).toBe(true);
      expect(lines.every((l) => l.runner_id === "main-test-runner")).toBe(true);
      expect(lines.some((l) => l.task_id === task.id && l.msg === "reported outcome")).toBe(true);
      expect(raw).not.toContain(edge.secret);
      expect(raw).not.toContain(task.lease!.lease_id);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("is not ready while its edge refuses it, and counts the failed lease requests", async () => {
    const port = await freePort();
    const child = execa(process.execPath, ["--import", "tsx", MAIN], {
      env: baseEnv({
        CODEFORGE_EDGE_URL: edge.url,
        CODEFORGE_RUNNER_SECRET: "a-runner-secret-the-edge-does-not-know",
        CODEFORGE_RUNNER_ID: "refused-runner",
        CODEFORGE_WORKSPACE_ROOT: workspaceRoot,
        CODEFORGE_HEALTH_PORT: String(port),
        CODEFORGE_HEALTH_HOST: "127.0.0.1",
        CODEFORGE_LEASE_WAIT_MS: "200",
        CODEFORGE_LOG_FORMAT: "pretty",
      }),
      extendEnv: false,
      reject: false,
      all: true,
    });
    let raw = "";
    child.stdout!.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    try {
      await edge.waitFor(() => raw.includes("lease request failed"), 15_000);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: "not_ready", problems: ["the edge has not been reached yet"] });
      const errors = Number(/codeforge_runner_lease_errors_total (\d+)/.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1]);
      expect(errors).toBeGreaterThanOrEqual(1);
      // The pretty format: one short human line each, no JSON objects.
      expect(raw.split("\n").find((l) => l.includes("lease request failed"))).toMatch(/^\S+ ERROR lease request failed /);
      expect(raw).not.toContain("a-runner-secret-the-edge-does-not-know");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
