// Integration: the runner's entry point refuses to start without a sandbox it can build, and its
// `--check` prints what the sandbox enforces here — as an operator runs them, as child processes.
import { execa } from "execa";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../../runner/src/main.ts", import.meta.url));
let noBwrapPath: string;

beforeAll(() => {
  // A PATH with node and git but no bubblewrap.
  noBwrapPath = mkdtempSync(path.join(os.tmpdir(), "codeforge-nobwrap-"));
  symlinkSync(process.execPath, path.join(noBwrapPath, "node"));
  symlinkSync("/usr/bin/git", path.join(noBwrapPath, "git"));
});
afterAll(() => rmSync(noBwrapPath, { recursive: true, force: true }));

function runner(args: string[], env: Record<string, string>) {
  return execa(process.execPath, ["--import", "tsx", MAIN, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir(), ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
}

describe("sandbox self-check and start-up probe", () => {
  it("--check passes every line on a machine with bubblewrap and cgroups, and needs no edge", async () => {
    const result = await runner(["--check"], {});
    expect(result.stdout).toContain("✓ sandbox — bubblewrap builds a sandbox");
    for (const check of [
      "identity",
      "read",
      "secret",
      "processes",
      "connect",
      "loopback",
      "dns",
      "proxy-allowed",
      "proxy-denied",
      "egress-denied",
      "escape",
      "write-outside",
      "fork",
      "memory-limit",
      "disk-limit",
    ]) {
      expect(result.stdout, check).toMatch(new RegExp(`^✓ ${check} — `, "m"));
    }
    expect(result.stdout).not.toMatch(/^✗/m);
    expect(result.stdout).toContain("The sandbox holds on this machine.");
    expect(result.exitCode).toBe(0);
  });

  it("--check fails with sandbox: none", async () => {
    const result = await runner(["--check"], { CODEFORGE_SANDBOX: "none" });
    expect(result.stdout).toMatch(/^✗ sandbox — sandbox: none/m);
    expect(result.exitCode).toBe(1);
  });

  it("refuses to start when bubblewrap is missing, naming it and the fix; sandbox: none is the way round", async () => {
    const env = {
      PATH: noBwrapPath,
      CODEFORGE_EDGE_URL: "http://127.0.0.1:9",
      CODEFORGE_RUNNER_SECRET: "a-secret-of-sixteen-chars",
      CODEFORGE_HEALTH_PORT: "0",
      CODEFORGE_CLIS: "demo",
    };
    const refused = await runner([], env);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("cannot build the sandbox: bubblewrap (bwrap) is not on the PATH");
    expect(refused.stderr).toContain("apt-get install bubblewrap");
    expect(refused.stdout + refused.stderr).not.toContain("a-secret-of-sixteen-chars");

    // With sandbox: none it starts (and says so); it is stopped once it has.
    const child = runner([], { ...env, CODEFORGE_SANDBOX: "none", CODEFORGE_LEASE_WAIT_MS: "200" });
    let log = "";
    child.stdout!.on("data", (chunk: Buffer) => (log += chunk.toString()));
    await expect.poll(() => log, { timeout: 30_000 }).toContain('"msg":"runner started"');
    expect(log).toContain("sandbox: none");
    expect(log).toContain('"sandbox":"none"');
    child.kill("SIGTERM");
    await child;
  });
});
