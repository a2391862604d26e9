// Integration: real child processes — cancel with SIGTERM then SIGKILL to the whole process
// group, no orphans left behind, and a clean environment without the runner's secrets.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_CLI_PATH } from "../../runner/src/cli/demo/demo-adapter.js";
import { createProcessRunner, type RunningProcess } from "../../runner/src/sandbox/process-runner.js";

let cwd: string;
beforeAll(() => {
  cwd = mkdtempSync(path.join(os.tmpdir(), "codeforge-proc-"));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const env = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, LANG: "C.UTF-8" });

async function collect(child: RunningProcess) {
  let out = "";
  for await (const chunk of child.stdout) out += chunk.toString();
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill(0); it is gone for our purposes.
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Waits until the shell stand-in has printed the pids of itself and its child. */
async function readPids(child: RunningProcess): Promise<number[]> {
  let text = "";
  for await (const chunk of child.stdout) {
    text += chunk.toString();
    const m = /pids (\d+) (\d+)\n/.exec(text);
    if (m) return [Number(m[1]), Number(m[2])];
  }
  throw new Error(`no pids printed: ${text}`);
}

describe("process runner", () => {
  it("runs a CLI to completion and reports its exit code", async () => {
    const runner = createProcessRunner({ killGraceMs: 1_000 });
    const child = runner.start({ command: "sh", args: ["-c", "echo out; echo err >&2; exit 7"], cwd, env: env() });
    const [out, exit] = await Promise.all([collect(child), child.exited]);
    expect(out).toBe("out\n");
    expect(exit).toEqual({ exitCode: 7, signal: null, spawnError: null });
  });

  it("passes arguments verbatim, without a shell", async () => {
    const runner = createProcessRunner({ killGraceMs: 1_000 });
    const tricky = "$(touch pwned); `id` && echo 'x' | cat; *";
    const child = runner.start({ command: "printf", args: ["%s", tricky], cwd, env: env() });
    expect(await collect(child)).toBe(tricky);
    await child.exited;
  });

  it("gives the CLI only the environment it is handed: no runner secret leaks", async () => {
    process.env.CODEFORGE_RUNNER_SECRET = "runner-secret-must-not-leak-0123456789";
    try {
      const runner = createProcessRunner({ killGraceMs: 1_000 });
      const child = runner.start({ command: "env", args: [], cwd, env: env() });
      const out = await collect(child);
      await child.exited;
      expect(out).not.toContain("runner-secret-must-not-leak");
      expect(out).not.toContain("CODEFORGE_");
      const names = out
        .trim()
        .split("\n")
        .map((l) => l.split("=")[0])
        .sort();
      expect(names).toEqual(["HOME", "LANG", "PATH"]);
    } finally {
      delete process.env.CODEFORGE_RUNNER_SECRET;
    }
  });

  it("stop() ends a sleeping demo CLI with SIGTERM", async () => {
    const runner = createProcessRunner({ killGraceMs: 5_000 });
    const child = runner.start({ command: process.execPath, args: [DEMO_CLI_PATH, "-p", "wait [demo:sleep=60000]"], cwd, env: env() });
    const started = Date.now();
    setTimeout(() => child.stop(), 200);
    const exit = await child.exited;
    expect(exit.signal).toBe("SIGTERM");
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(alive(child.pid!)).toBe(false);
  });

  it("stop() kills the whole process group: no grandchild survives", async () => {
    const runner = createProcessRunner({ killGraceMs: 2_000 });
    const child = runner.start({ command: "sh", args: ["-c", 'sleep 1000 & echo "pids $$ $!"; wait'], cwd, env: env() });
    const [shPid, sleepPid] = await readPids(child);
    expect(alive(sleepPid!)).toBe(true);
    child.stop();
    await child.exited;
    await new Promise((r) => setTimeout(r, 50));
    expect(alive(shPid!)).toBe(false);
    expect(alive(sleepPid!)).toBe(false);
  });

  it("follows SIGTERM with SIGKILL after the grace period when the CLI ignores SIGTERM", async () => {
    const runner = createProcessRunner({ killGraceMs: 300 });
    const child = runner.start({ command: "sh", args: ["-c", 'trap "" TERM; sleep 1000 & echo "pids $$ $!"; wait; wait'], cwd, env: env() });
    const [shPid, sleepPid] = await readPids(child);
    const stoppedAt = Date.now();
    child.stop();
    const exit = await child.exited;
    expect(exit.signal).toBe("SIGKILL");
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(250);
    await new Promise((r) => setTimeout(r, 50));
    expect(alive(shPid!)).toBe(false);
    expect(alive(sleepPid!)).toBe(false);
  });

  it("kills what a CLI left running in its group when it exits on its own", async () => {
    const runner = createProcessRunner({ killGraceMs: 1_000 });
    // The background sleep keeps stdout open; the runner must not hang on it either.
    const child = runner.start({ command: "sh", args: ["-c", 'sleep 1000 & echo "pids $$ $!"; exit 0'], cwd, env: env() });
    const [, sleepPid] = await readPids(child);
    expect((await child.exited).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(alive(sleepPid!)).toBe(false);
  });

  it("killAll() stops every live group at once", async () => {
    const runner = createProcessRunner({ killGraceMs: 10_000 });
    const a = runner.start({ command: "sh", args: ["-c", 'sleep 1000 & echo "pids $$ $!"; wait'], cwd, env: env() });
    const b = runner.start({ command: "sh", args: ["-c", 'sleep 1000 & echo "pids $$ $!"; wait'], cwd, env: env() });
    const pids = [...(await readPids(a)), ...(await readPids(b))];
    runner.killAll();
    await Promise.all([a.exited, b.exited]);
    await new Promise((r) => setTimeout(r, 50));
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it("reports a CLI that cannot be started instead of throwing", async () => {
    const runner = createProcessRunner({ killGraceMs: 1_000 });
    const child = runner.start({ command: path.join(cwd, "no-such-cli"), args: [], cwd, env: env() });
    expect(await child.exited).toEqual({ exitCode: null, signal: null, spawnError: "ENOENT" });
  });
});
