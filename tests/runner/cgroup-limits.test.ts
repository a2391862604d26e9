// Integration: real cgroups (v1 or v2, whichever this machine has) and real child processes —
// a memory hog is OOM-killed and reported as "memory", a fork loop is held at its process
// limit and reported as "processes", remove() kills what is left and deletes the cgroup.
// Each child waits on stdin until it is in its cgroup, as the sandbox waits on --block-fd.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { mkdir, rmdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { createAttemptCgroup, probeCgroups, type AttemptCgroup, type ResourceLimits } from "../../runner/src/sandbox/cgroup-limits.js";

/** Per test process, so parallel runs and a real runner's "codeforge" group stay apart. */
const GROUP = `codeforge-test-${process.pid}`;
const MiB = 1024 * 1024;
const UNLIMITED: ResourceLimits = { memoryBytes: null, maxProcesses: null, cpus: null };

const probe = await probeCgroups({ group: GROUP });
if (!probe.ok) console.warn(`cgroup tests skipped: ${probe.reason} (fix: ${probe.fix})`);
const skipReason = probe.ok ? "" : `cgroups unavailable: ${probe.reason}`;

const cgroups: AttemptCgroup[] = [];
const children: ChildProcess[] = [];
const groupDirs = new Set<string>();
let nameCounter = 0;

afterEach(async () => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  const failures: unknown[] = [];
  for (const cgroup of cgroups.splice(0)) {
    await cgroup.remove().catch(async (error: unknown) => {
      failures.push(error);
      // remove() itself is what failed: kill what it left by hand so no test leaks processes.
      for (const dir of cgroup.paths) {
        for (const pid of readPidsIfAny(path.join(dir, "cgroup.procs"))) process.kill(pid, "SIGKILL");
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const dir of cgroup.paths) await rmdir(dir).catch(() => {}); // best effort; the failure is reported above
    });
  }
  if (failures.length > 0) throw new AggregateError(failures, "cgroups left behind");
});

afterAll(async () => {
  for (const dir of groupDirs) await rmdir(dir).catch(() => {}); // already gone, or never made
});

async function newCgroup(limits: ResourceLimits): Promise<AttemptCgroup> {
  const cgroup = await createAttemptCgroup({ name: `attempt-${++nameCounter}`, limits, group: GROUP });
  cgroups.push(cgroup);
  for (const dir of cgroup.paths) groupDirs.add(path.dirname(dir));
  return cgroup;
}

/** Starts `sh -c script` held on stdin, moves it into the cgroup, then lets it run. */
async function runIn(cgroup: AttemptCgroup, script: string) {
  const child = spawn("sh", ["-c", `read _ || exit 1\n${script}`], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stdout })),
  );
  await cgroup.add(child.pid!);
  child.stdin!.end("go\n");
  return { child, exit };
}

/** The cgroup directory holding `file` (v1: one per controller; v2: the only one). */
function dirWith(cgroup: AttemptCgroup, file: string): string {
  const dir = cgroup.paths.find((p) => existsSync(path.join(p, file)));
  if (dir === undefined) throw new Error(`no ${file} in ${cgroup.paths.join(", ")}`);
  return dir;
}

function readPidsIfAny(file: string): number[] {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .map(Number)
      .filter((pid) => pid > 0);
  } catch {
    return []; // the cgroup is gone: nothing left to kill
  }
}

function procsIn(cgroup: AttemptCgroup): number[] {
  return readFileSync(path.join(dirWith(cgroup, "pids.max"), "cgroup.procs"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map(Number);
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

const node = JSON.stringify(process.execPath);

describe.skipIf(!probe.ok)(`attempt cgroups on this machine${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  it("OOM-kills a process that allocates past the memory limit and reports memory", async () => {
    const cgroup = await newCgroup({ ...UNLIMITED, memoryBytes: 64 * MiB });
    const { exit } = await runIn(cgroup, `exec ${node} -e "const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));"`);
    expect((await exit).signal).toBe("SIGKILL");
    expect(await cgroup.limitHit()).toBe("memory");
  });

  it("refuses forks past the process limit, reports processes, and keeps the count within it", async () => {
    const cgroup = await newCgroup({ ...UNLIMITED, maxProcesses: 20 });
    const { exit } = await runIn(cgroup, "for i in $(seq 200); do sleep 30 & done; wait");
    await vi.waitFor(async () => expect(await cgroup.limitHit()).toBe("processes"), { timeout: 10_000, interval: 50 });
    const inside = procsIn(cgroup);
    expect(inside.length).toBeGreaterThan(0);
    expect(inside.length).toBeLessThanOrEqual(20);

    await cgroup.remove();
    await exit; // the shell gave up on the refused fork, or was killed by remove()
    expect(inside.filter(alive)).toEqual([]);
    expect(cgroup.paths.filter((p) => existsSync(p))).toEqual([]);
  });

  it("reports no limit for a process that stays within all of them", async () => {
    const cgroup = await newCgroup({ memoryBytes: 256 * MiB, maxProcesses: 50, cpus: 1 });
    const { exit } = await runIn(cgroup, `exec ${node} -e "console.log('fine')"`);
    expect(await exit).toEqual({ code: 0, signal: null, stdout: "fine\n" });
    expect(await cgroup.limitHit()).toBeNull();
  });

  it("remove() kills what is still running, deletes the cgroup, and can be called again", async () => {
    const cgroup = await newCgroup(UNLIMITED);
    const { exit } = await runIn(cgroup, "sleep 60 & sleep 60 & wait");
    await vi.waitFor(() => expect(procsIn(cgroup).length).toBe(3), { timeout: 5_000, interval: 20 });
    const inside = procsIn(cgroup);

    await cgroup.remove();
    expect((await exit).signal).toBe("SIGKILL");
    expect(inside.filter(alive)).toEqual([]);
    expect(cgroup.paths.filter((p) => existsSync(p))).toEqual([]);
    await expect(cgroup.remove()).resolves.toBeUndefined();
    expect(await cgroup.limitHit()).toBeNull();
  });

  it("writes the limits asked for: 0.5 CPUs as a 50 ms quota per 100 ms period", async () => {
    const cgroup = await newCgroup({ memoryBytes: 64 * MiB, maxProcesses: 20, cpus: 0.5 });
    const read = (file: string) => readFileSync(path.join(dirWith(cgroup, file), file), "utf8").trim();
    if (probe.ok && probe.version === 1) {
      expect(read("cpu.cfs_quota_us")).toBe("50000");
      expect(read("cpu.cfs_period_us")).toBe("100000");
      expect(read("memory.limit_in_bytes")).toBe(String(64 * MiB));
    } else {
      expect(read("cpu.max")).toBe("50000 100000");
      expect(read("memory.max")).toBe(String(64 * MiB));
    }
    expect(read("pids.max")).toBe("20");
  });

  it("refuses to take over a cgroup that already exists, and leaves it alone", async () => {
    const cgroup = await newCgroup(UNLIMITED);
    const name = path.basename(cgroup.paths[0]!);
    await expect(createAttemptCgroup({ name, limits: UNLIMITED, group: GROUP })).rejects.toThrow(/already exists/);
    expect(cgroup.paths.filter((p) => existsSync(p))).toEqual(cgroup.paths);
  });
});

describe("attempt cgroup names and probing (no cgroups needed)", () => {
  let scratch: string | undefined;
  afterEach(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    scratch = undefined;
  });

  it.each(["../escape", "a/b", "", ".", "x".repeat(101), "name with space"])("rejects the name %j", async (name) => {
    scratch = mkdtempSync(path.join(os.tmpdir(), "codeforge-cgroup-"));
    await expect(createAttemptCgroup({ name, limits: UNLIMITED, root: scratch })).rejects.toThrow(/invalid cgroup name/);
  });

  it("says there is no cgroup file system where none is mounted, and what to do", async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), "codeforge-cgroup-"));
    const result = await probeCgroups({ root: scratch });
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining(`no cgroup file system at ${scratch}`) });
    expect(result.ok ? "" : result.fix).toContain("sandbox_cgroup_limits: false");
  });

  it("names the controller that a plain directory posing as cgroup v1 lacks", async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), "codeforge-cgroup-"));
    for (const controller of ["memory", "pids", "cpu"]) await mkdir(path.join(scratch, controller));
    const result = await probeCgroups({ root: scratch });
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining("memory controller is not enabled") });
    // The probe cleaned up after itself.
    expect(existsSync(path.join(scratch, "memory", "codeforge", `probe-${process.pid}`))).toBe(false);
  });
});
