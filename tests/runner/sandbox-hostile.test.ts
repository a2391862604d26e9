// Integration: a hostile `script` CLI (`runner/bin/sandbox-check.mjs`) run as a task by the real
// runner process (`runner/src/main.ts`) against the fake edge, once with the bubblewrap sandbox
// and once with `sandbox: none`. What the sandbox stops must be seen to get through without it:
// each check below fails when the sandbox is switched off.
import { execa, type ResultPromise } from "execa";
import { createHash, randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunnerEvent } from "#api/index.js";
import { countingDns, countingServer, processesTagged } from "../../runner/src/sandbox/sandbox-self-check.js";
import { startFakeEdge, type FakeEdge } from "./harness/fake-edge.js";
import { createGitFixture, type GitFixture } from "./harness/git-fixture.js";

const MAIN = fileURLToPath(new URL("../../runner/src/main.ts", import.meta.url));
const CHECK = fileURLToPath(new URL("../../runner/bin/sandbox-check.mjs", import.meta.url));
const MEMORY_MB = 160;
const DISK_MB = 24;
const MAX_PROCESSES = 48;

function outputOf(events: RunnerEvent[]): string {
  return events.flatMap((event) => (event.type === "output" && event.stream === "stdout" ? [event.text] : [])).join("");
}

/** The check lines of a run: check name → every PASS/FAIL line for it. */
function verdicts(output: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const match of output.matchAll(/^(PASS|FAIL) ([a-z-]+): (.*)$/gm)) {
    map.set(match[2]!, [...(map.get(match[2]!) ?? []), `${match[1]} ${match[3]}`]);
  }
  return map;
}

describe.each(["bubblewrap", "none"] as const)("a hostile CLI through a real runner, sandbox: %s", (sandbox) => {
  const contained = sandbox === "bubblewrap";
  let fixture: GitFixture;
  let edge: FakeEdge;
  let root: string;
  let runner: ResultPromise;
  let listener: Awaited<ReturnType<typeof countingServer>>;
  let allowed: Awaited<ReturnType<typeof countingServer>>;
  let dns: Awaited<ReturnType<typeof countingDns>>;
  let configFile: string;
  let siblingSecret: string;
  let runnerLog = "";
  let healthPort: number;

  beforeAll(async () => {
    chmodSync(CHECK, 0o755);
    fixture = createGitFixture();
    edge = await startFakeEdge({ heartbeatIntervalMs: 200 });
    root = mkdtempSync(path.join(os.tmpdir(), "codeforge-hostile-"));
    const workspaceRoot = path.join(root, "workspaces");
    // Another task's checkout, beside where this runner's attempts go.
    mkdirSync(path.join(workspaceRoot, "tsk_other-a1-000000"), { recursive: true });
    siblingSecret = path.join(workspaceRoot, "tsk_other-a1-000000", "secret.txt");
    writeFileSync(siblingSecret, "another tenant's code\n");
    configFile = path.join(root, "runner.yaml");
    writeFileSync(configFile, `runner_secret: ${edge.secret}\n`, { mode: 0o600 });
    listener = await countingServer();
    allowed = await countingServer("hello from an allowed host\n");
    dns = await countingDns();
    const probe = await countingServer();
    healthPort = probe.port;
    await probe.close();
    runner = execa(process.execPath, ["--import", "tsx", MAIN, "--config", configFile], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: os.tmpdir(),
        CODEFORGE_EDGE_URL: edge.url,
        // In its environment as well as its configuration file: both are places to steal it from.
        CODEFORGE_RUNNER_SECRET: edge.secret,
        CODEFORGE_RUNNER_ID: `hostile-${sandbox}`,
        CODEFORGE_LOCAL_MODE: "true",
        CODEFORGE_WORKSPACE_ROOT: workspaceRoot,
        CODEFORGE_HEALTH_PORT: String(healthPort),
        CODEFORGE_HEALTH_HOST: "127.0.0.1",
        CODEFORGE_LEASE_WAIT_MS: "1000",
        CODEFORGE_CLIS: "script",
        CODEFORGE_SCRIPT_COMMAND: CHECK,
        CODEFORGE_SANDBOX: sandbox,
        CODEFORGE_SANDBOX_MEMORY_MB: String(MEMORY_MB),
        CODEFORGE_SANDBOX_MAX_PROCESSES: String(MAX_PROCESSES),
        CODEFORGE_SANDBOX_DISK_MB: String(DISK_MB),
        CODEFORGE_EGRESS_ALLOW: `localhost:${allowed.port}`,
        CODEFORGE_EGRESS_ALLOWED_NETWORKS: "127.0.0.1/32",
        CODEFORGE_KILL_GRACE_MS: "500",
      },
      extendEnv: false,
      reject: false,
      all: true,
    });
    runner.all!.on("data", (chunk: Buffer) => (runnerLog += chunk.toString()));
    await edge.waitFor(() => runnerLog.includes("runner started") || runner.exitCode !== null, 30_000);
    expect(runnerLog).toContain("runner started");
  }, 60_000);

  afterAll(async () => {
    runner?.kill("SIGTERM");
    await runner;
    await Promise.all([listener?.close(), allowed?.close()]);
    dns?.close();
    await edge?.close();
    fixture?.remove();
    rmSync(root, { recursive: true, force: true });
  });

  async function run(targets: Record<string, unknown>, egressAllow: string[] | null = null) {
    const task = edge.enqueue({
      repo: { url: fixture.url, ref: null },
      cli: "script",
      prompt: JSON.stringify(targets),
      timeout_seconds: 60,
      egress_allow: egressAllow,
    });
    const completion = await edge.waitFor(() => task.completion, 45_000);
    const events = edge.events(task.id);
    return { task, completion, events, output: outputOf(events) };
  }

  it(`${contained ? "refuses" : "lets through"} what a prompt-injected agent tries: files, processes, secret, network, names, writes, escapes, forks`, async () => {
    const escapeMarker = `codeforge-escape-${randomUUID()}`;
    // Beside the workspaces on the host (the sandbox's /tmp is the attempt's own).
    const hostTmpFile = path.join(root, `escape-${randomUUID()}`);
    const planted = path.join(path.dirname(siblingSecret), "planted.txt");
    try {
      const { completion, events, output } = await run({
        read: [siblingSecret, configFile, MAIN, "/etc/shadow"],
        write: [hostTmpFile, planted],
        connect: [
          { host: "127.0.0.1", port: listener.port },
          { host: "127.0.0.1", port: Number(new URL(edge.url).port) },
        ],
        dns: `127.0.0.1:${dns.port}`,
        secret_sha256: createHash("sha256").update(edge.secret).digest("hex"),
        runner_marker: "runner/src/main.ts",
        escape_marker: escapeMarker,
        forks: MAX_PROCESSES + 20,
        proxy: { allowed: `localhost:${allowed.port}`, denied: "example.com:443" },
      });
      const checks = verdicts(output);
      expect(completion.outcome).toBe("succeeded");
      expect(output).not.toContain(edge.secret);
      expect(readFileSync(siblingSecret, "utf8")).toBe("another tenant's code\n");
      // The agent's own directories are writable either way.
      expect(checks.get("write-own")).toEqual([expect.stringMatching(/^PASS/), expect.stringMatching(/^PASS/), expect.stringMatching(/^PASS/)]);
      if (contained) {
        expect(output).not.toMatch(/^FAIL/m);
        for (const name of ["identity", "read", "write", "processes", "secret", "connect", "dns", "proxy-allowed", "proxy-denied", "escape", "fork"]) {
          expect(checks.get(name), name).toBeDefined();
        }
        expect(checks.get("read")).toHaveLength(4);
        expect(listener.connections()).toBe(0);
        expect(dns.queries()).toBe(0);
        expect(allowed.connections()).toBe(1);
        expect(existsSync(hostTmpFile) || existsSync(planted)).toBe(false);
        expect(events).toContainEqual({ type: "egress_denied", host: "example.com", port: 443, reason: "not in the egress policy" });
        expect(completion.result?.sandbox).toBe("bubblewrap");
        const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
        expect(metrics).toMatch(/^codeforge_runner_egress_denied_total [1-9]/m);
        // The process left running in a session of its own ended with the sandbox.
        await expect.poll(() => processesTagged(escapeMarker), { timeout: 5_000 }).toEqual([]);
      } else {
        expect(checks.get("identity")?.[0]).toMatch(/^FAIL/);
        expect(checks.get("read")?.filter((line) => line.startsWith("FAIL")).length).toBeGreaterThanOrEqual(3);
        expect(checks.get("processes")?.[0]).toMatch(/^FAIL/);
        expect(checks.get("secret")?.[0]).toMatch(/^FAIL/);
        expect(listener.connections()).toBeGreaterThan(0);
        expect(dns.queries()).toBeGreaterThan(0);
        expect(existsSync(hostTmpFile)).toBe(true);
        expect(checks.get("fork")?.[0]).toMatch(/^FAIL/);
        expect(processesTagged(escapeMarker)).not.toEqual([]);
        expect(completion.result?.sandbox).toBe("none");
      }
    } finally {
      for (const pid of processesTagged(escapeMarker)) process.kill(pid, "SIGKILL");
      rmSync(hostTmpFile, { force: true });
      rmSync(planted, { force: true });
    }
  });

  it("leaves nothing running when the clone fails after the sandbox was launched", async () => {
    const task = edge.enqueue({ repo: { url: `${fixture.url}-missing`, ref: null }, cli: "script", prompt: "{}", timeout_seconds: 60 });
    const completion = await edge.waitFor(() => task.completion, 30_000);
    expect(completion.error?.code).toBe("clone_failed");
    await expect.poll(() => processesTagged(path.join(root, "workspaces")), { timeout: 5_000 }).toEqual([]);
  });

  it.runIf(contained)("lets a task narrow its pool's egress policy, never widen it", async () => {
    const narrowed = await run({ proxy: { denied: `localhost:${allowed.port}` } }, ["registry.example.org"]);
    expect(narrowed.output).toMatch(/^PASS proxy-denied: localhost:\d+: 403 Forbidden$/m);
    expect(narrowed.events).toContainEqual({ type: "egress_denied", host: "localhost", port: allowed.port, reason: "not in the egress policy" });
    const widened = await run({ proxy: { denied: "example.com:443" } }, ["example.com"]);
    expect(widened.output).toMatch(/^PASS proxy-denied: example\.com:443: 403 Forbidden$/m);
    const kept = await run({ proxy: { allowed: `localhost:${allowed.port}` } }, [`localhost:${allowed.port}`]);
    expect(kept.output).toMatch(/^PASS proxy-allowed: localhost:\d+: 200 Connection established$/m);
  });

  it(`${contained ? "stops" : "does not stop"} a memory hog at the sandbox's memory limit`, async () => {
    const { completion, output } = await run({ mode: "memory", mb: MEMORY_MB * 3 });
    if (contained) {
      expect(completion.outcome).toBe("failed");
      expect(completion.error).toEqual({ code: "resource_limit", message: `the sandbox's memory limit (${MEMORY_MB} MiB) was reached` });
    } else {
      expect(completion.outcome).toBe("succeeded");
      expect(output).toContain(`allocated ${MEMORY_MB * 3} MiB`);
    }
  });

  it(`${contained ? "stops" : "does not stop"} a disk filler at the workspace's disk limit`, async () => {
    const { completion, output } = await run({ mode: "disk", mb: DISK_MB * 3 });
    if (contained) {
      expect(completion.outcome).toBe("failed");
      expect(completion.error).toEqual({ code: "resource_limit", message: `the workspace's disk limit (${DISK_MB} MiB) was reached` });
    } else {
      expect(completion.outcome).toBe("succeeded");
      expect(output).toContain(`wrote ${DISK_MB * 3} MiB`);
    }
  });

  it("lets the agent run programs in its checkout, and the task ends as the CLI says", async () => {
    const ok = await run({ mode: "run", exit: 0 });
    expect(ok.completion.outcome).toBe("succeeded");
    expect(ok.output).toContain("six times seven is 42");
    expect(ok.output).toContain("node: 0");
    // The checkout is on the task's own branch.
    expect(ok.output).toMatch(/^## codeforge\/tsk_[0-9a-z]{26}$/m);
    expect(ok.output).toContain("git: 0");
    expect(ok.output).toMatch(/failing: 2/);
    const failed = await run({ mode: "run", exit: 3 });
    expect(failed.completion.outcome).toBe("failed");
    expect(failed.completion.error).toEqual({ code: "cli_failed", message: "script exited with code 3" });
  });
});
