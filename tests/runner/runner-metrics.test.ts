// Integration: the runner's metrics in a fresh prom-client registry, the du-like workspace
// measurement on a real file system, and /metrics on the real health server.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, linkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diskUsageBytes } from "../../runner/src/workspace/disk-usage.js";
import { startHealthServer } from "../../runner/src/telemetry/health-server.js";
import { createEdgeClient } from "../../runner/src/edge-link/edge-client.js";
import { watchEdgeContact } from "../../runner/src/edge-link/edge-contact.js";
import { createRunnerMetrics, timePhase } from "../../runner/src/telemetry/runner-metrics.js";
import { startFakeEdge } from "./harness/fake-edge.js";

let root: string;
let outside: string;
beforeAll(() => {
  const base = mkdtempSync(path.join(os.tmpdir(), "codeforge-du-"));
  root = path.join(base, "workspaces");
  outside = path.join(base, "outside");
  mkdirSync(path.join(root, "tsk_a", "repo"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(root, "tsk_a", "repo", "one.bin"), Buffer.alloc(100_000, 1));
  writeFileSync(path.join(root, "tsk_a", "repo", "two.bin"), Buffer.alloc(50_000, 2));
  linkSync(path.join(root, "tsk_a", "repo", "two.bin"), path.join(root, "tsk_a", "repo", "two-again.bin"));
  // 5 MB outside the workspace root, reachable only through symlinks.
  writeFileSync(path.join(outside, "big.bin"), Buffer.alloc(5_000_000, 3));
  symlinkSync(outside, path.join(root, "tsk_a", "repo", "link-to-outside"));
  symlinkSync("/", path.join(root, "tsk_a", "repo", "link-to-root"));
});
afterAll(() => rmSync(path.dirname(root), { recursive: true, force: true }));

describe("workspace disk usage", () => {
  it("counts files once, and never follows symlinks out of the tree", async () => {
    const bytes = await diskUsageBytes(root);
    expect(bytes).toBeGreaterThanOrEqual(150_000);
    // The hard link is counted once and the 5 MB behind the symlink not at all.
    expect(bytes).toBeLessThan(250_000);
  });

  it("is 0 for a root that does not exist yet", async () => {
    expect(await diskUsageBytes(path.join(root, "missing"))).toBe(0);
  });
});

describe("runner metrics", () => {
  it("counts attempts by outcome and CLI, tracks active ones, and measures the workspace at scrape time", async () => {
    const register = new Registry();
    const metrics = createRunnerMetrics({ register, workspaceRoot: root });
    metrics.taskStarted("claude");
    metrics.taskStarted("demo");
    metrics.taskStarted("demo");
    let text = await register.metrics();
    expect(text).toContain("codeforge_runner_active_tasks 3");
    metrics.taskFinished("claude", "succeeded");
    metrics.taskFinished("demo", "released");
    text = await register.metrics();
    expect(text).toContain("codeforge_runner_active_tasks 1");
    expect(text).toContain('codeforge_runner_tasks_total{outcome="succeeded",cli="claude"} 1');
    expect(text).toContain('codeforge_runner_tasks_total{outcome="released",cli="demo"} 1');
    const usage = Number(/codeforge_workspace_disk_usage_bytes (\d+)/.exec(text)?.[1]);
    expect(usage).toBe(await diskUsageBytes(root));

    writeFileSync(path.join(root, "tsk_a", "repo", "three.bin"), Buffer.alloc(200_000, 4));
    const after = Number(/codeforge_workspace_disk_usage_bytes (\d+)/.exec(await register.metrics())?.[1]);
    expect(after).toBeGreaterThanOrEqual(usage + 200_000);
    rmSync(path.join(root, "tsk_a", "repo", "three.bin"));
  });

  it("is served at /metrics by the health server, in the Prometheus text format", async () => {
    const register = new Registry();
    createRunnerMetrics({ register, workspaceRoot: root, measureDisk: async () => 4242 });
    const server = await startHealthServer({ port: 0, host: "127.0.0.1", readiness: () => ({ ready: true, detail: {} }), metrics: register });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/plain");
      const body = await response.text();
      expect(body).toContain("# TYPE codeforge_runner_tasks_total counter");
      expect(body).toContain("codeforge_workspace_disk_usage_bytes 4242");
      // Only the runner's own registry: none of prom-client's default process metrics.
      expect(body).not.toContain("process_cpu");
    } finally {
      await server.close();
    }
  });

  it("measures phases with timePhase, failures included", async () => {
    const register = new Registry();
    const metrics = createRunnerMetrics({ register, workspaceRoot: root, measureDisk: async () => 0 });
    let clock = 0;
    const now = () => clock;
    await timePhase(metrics, "clone", async () => void (clock += 1_500), now);
    await expect(
      timePhase(
        metrics,
        "push",
        async () => {
          clock += 40_000;
          throw new Error("rejected");
        },
        now,
      ),
    ).rejects.toThrow("rejected");
    metrics.observePhase("run", 200);
    const text = await register.metrics();
    expect(text).toContain('codeforge_runner_phase_duration_seconds_bucket{le="2.5",phase="clone"} 1');
    expect(text).toContain('codeforge_runner_phase_duration_seconds_bucket{le="1",phase="clone"} 0');
    expect(text).toContain('codeforge_runner_phase_duration_seconds_sum{phase="push"} 40');
    expect(text).toContain('codeforge_runner_phase_duration_seconds_bucket{le="300",phase="run"} 1');
    expect(text).toContain('codeforge_runner_phase_duration_seconds_bucket{le="120",phase="run"} 0');
  });

  it("counts failed lease requests and heartbeats against a real server, but not aborted ones", async () => {
    const edge = await startFakeEdge();
    try {
      const register = new Registry();
      const metrics = createRunnerMetrics({ register, workspaceRoot: root, measureDisk: async () => 0 });
      const leaseRequest = { runner_id: "r1", pool: "default", clis: ["demo" as const], labels: [], wait_ms: 0, running: 0, capacity: 1 };
      const refused = watchEdgeContact(createEdgeClient({ edgeUrl: edge.url, secret: "not-the-edge-secret-0123456789" }), { metrics });
      await expect(refused.client.lease(leaseRequest)).rejects.toThrow();
      await expect(refused.client.heartbeat("tsk_missing", { lease_id: "lse_x", phase: "running" })).rejects.toThrow();
      expect(refused.lastContactAt()).toBeNull();

      const good = watchEdgeContact(createEdgeClient({ edgeUrl: edge.url, secret: edge.secret }), { metrics, now: () => 1_234 });
      expect(await good.client.lease(leaseRequest)).toBeNull();
      expect(good.lastContactAt()).toBe(1_234);
      const aborted = new AbortController();
      aborted.abort();
      await expect(good.client.lease({ ...leaseRequest, wait_ms: 1_000 }, aborted.signal)).rejects.toThrow();

      const text = await register.metrics();
      expect(text).toContain("codeforge_runner_lease_errors_total 1");
      expect(text).toContain("codeforge_runner_heartbeat_errors_total 1");
    } finally {
      await edge.close();
    }
  });
});
