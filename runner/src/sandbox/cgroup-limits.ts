/**
 * One cgroup per attempt, so the CLI's sandbox gets a memory limit, a process limit and a CPU
 * quota, and the runner can tell afterwards which limit, if any, the attempt ran into.
 *
 * Why cgroups and not rlimits: `RLIMIT_NPROC` counts the processes of a real user id, and the
 * sandbox's user maps to the runner's own user, so it would count (and starve) the runner and
 * every other attempt too; `RLIMIT_AS` limits virtual address space, which breaks runtimes that
 * reserve large regions up front (V8, Go, the JVM) long before they use any memory. A cgroup
 * counts exactly the processes inside it and the memory they really use, every process forked
 * inside inherits it, and the kernel records which limit bit (`oom_kill`, `pids.events max`).
 *
 * How it is used: the runner starts bubblewrap, learns the host pid of the sandbox's first
 * process before that process runs anything (`--info-fd` / `--block-fd`), calls `add(pid)`,
 * then lets it go. After the attempt it asks `limitHit()` and calls `remove()`, which kills
 * whatever is left and deletes the cgroup. Where the cgroups go, per cgroup version, is
 * `cgroup-layout.ts`.
 * @module
 */
import { mkdir, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describeFsError, errorCode, exists, readCounter, readPids, readText } from "./cgroup-files.js";
import { CONTROLLERS, FIX_V1, FIX_V2, resolveLayout, type Controller, type ControllerDirs } from "./cgroup-layout.js";

/** Limits for one attempt; `null` leaves that resource unlimited. */
export interface ResourceLimits {
  /** Memory the attempt's processes may use together (RSS + page cache), in bytes. */
  memoryBytes: number | null;
  /** Processes (and threads) that may exist in the attempt at once. */
  maxProcesses: number | null;
  /** A hard CPU quota in CPUs (1.5 = one and a half CPUs' worth of time per period). */
  cpus: number | null;
}

/** Whether per-attempt cgroups can be created here, and if not, why and what to do. */
export type CgroupProbe =
  | { ok: true; version: 1 | 2 /** where the attempts' cgroups go, for logs */; parent: string }
  | { ok: false /** the missing piece */; reason: string /** what an operator can do */; fix: string };

/** Which limit an attempt ran into. */
export type LimitHit = "memory" | "processes";

/** One attempt's cgroup. */
export interface AttemptCgroup {
  /** The cgroup's directories (one per v1 controller, one in v2), for logs and operators. */
  readonly paths: readonly string[];
  /** Moves a process (and so everything it forks from then on) into the cgroup. */
  add(pid: number): Promise<void>;
  /** The limit the kernel enforced by killing or refusing something, or null. */
  limitHit(): Promise<LimitHit | null>;
  /** Kills what is left in the cgroup and deletes it; safe to call twice. */
  remove(): Promise<void>;
}

/** Where cgroup file systems are mounted on Linux. */
export const CGROUP_ROOT = "/sys/fs/cgroup";
/** The cgroup holding all of this runner's attempts, so an operator can find and total them. */
export const CGROUP_GROUP = "codeforge";

/** One path segment of letters, digits, `_` and `-`: no `/`, no `..`; 100 keeps paths short. */
const CGROUP_NAME = /^[A-Za-z0-9_-]{1,100}$/;
/** The kernel's default CFS period (100 ms); the quota is `cpus × period`. */
const CFS_PERIOD_US = 100_000;
/** The kernel refuses quotas below 1 ms per period. */
const CFS_MIN_QUOTA_US = 1_000;
/** A SIGKILLed process leaves its cgroup within milliseconds; 5 s means it is stuck in the
 *  kernel (uninterruptible I/O), and `remove()` reports that rather than wait forever. */
const REMOVE_TIMEOUT_MS = 5_000;
/** How often `remove()` looks whether the cgroup is empty yet. */
const REMOVE_POLL_MS = 20;
/**
 * Finds the cgroup version and checks that an attempt's cgroup can really be created there
 * with the memory, pids and cpu controllers (it creates and deletes a probe cgroup). In cgroup
 * v2 it also prepares the delegated subtree, which may move the runner into `<own>/runner`.
 * @example
 * const probe = await probeCgroups();
 * if (!probe.ok) throw new Error(`sandbox limits unavailable: ${probe.reason}; ${probe.fix}`);
 * logger.info(`attempt cgroups under ${probe.parent} (cgroup v${probe.version})`);
 */
export async function probeCgroups(options: { root?: string; group?: string } = {}): Promise<CgroupProbe> {
  const { root = CGROUP_ROOT, group = CGROUP_GROUP } = options;
  const layout = await resolveLayout(root, group);
  if (!layout.ok) return layout;
  const dirs = layout.dirs(`probe-${process.pid}`);
  const fix = layout.version === 1 ? FIX_V1 : FIX_V2;
  for (const dir of unique(Object.values(dirs))) {
    try {
      await mkdir(dir);
    } catch (error) {
      if (errorCode(error) !== "EEXIST") return { ok: false, reason: describeFsError(error, dir), fix };
      // EEXIST: a probe of this same process that was interrupted; reuse it.
    }
  }
  let missing: string | undefined;
  for (const controller of CONTROLLERS) {
    const file = path.join(dirs[controller], limitFiles(layout.version)[controller]);
    if (missing === undefined && !(await exists(file))) {
      missing = `the ${controller} controller is not enabled for ${dirs[controller]} (no ${file})`;
    }
  }
  try {
    await removeDirs(unique(Object.values(dirs)), layout.version);
  } catch (error) {
    return { ok: false, reason: `cannot remove the probe cgroup: ${error instanceof Error ? error.message : String(error)}`, fix };
  }
  if (missing !== undefined) return { ok: false, reason: missing, fix };
  return { ok: true, version: layout.version, parent: layout.parent };
}

/**
 * Creates the cgroup `<group>/<name>` with the given limits. Throws when cgroups are
 * unavailable (with the probe's reason and fix) or a cgroup of that name already exists.
 * @example
 * const cgroup = await createAttemptCgroup({
 *   name: attemptId,
 *   limits: { memoryBytes: 4 * 1024 ** 3, maxProcesses: 512, cpus: 2 },
 * });
 * try {
 *   await cgroup.add(sandboxPid); // before the sandbox's first process runs anything
 *   // … release the sandbox and wait for it …
 *   const hit = await cgroup.limitHit(); // "memory" | "processes" | null
 * } finally {
 *   await cgroup.remove();
 * }
 */
export async function createAttemptCgroup(options: { name: string; limits: ResourceLimits; root?: string; group?: string }): Promise<AttemptCgroup> {
  const { name, limits, root = CGROUP_ROOT, group = CGROUP_GROUP } = options;
  if (!CGROUP_NAME.test(name)) throw new Error(`invalid cgroup name ${JSON.stringify(name)}: must match ${CGROUP_NAME}`);
  if (!CGROUP_NAME.test(group)) throw new Error(`invalid cgroup group ${JSON.stringify(group)}: must match ${CGROUP_NAME}`);
  checkLimits(limits);
  const layout = await resolveLayout(root, group);
  if (!layout.ok) throw new Error(`cgroups unavailable: ${layout.reason}; ${layout.fix}`);
  const { version } = layout;
  const dirs = layout.dirs(name);
  const paths = unique(Object.values(dirs));

  const created: string[] = [];
  try {
    for (const dir of paths) {
      await mkdir(dir).catch((error: unknown) => {
        if (errorCode(error) === "EEXIST") throw new Error(`cgroup ${dir} already exists (a name reused, or left over from a crash)`);
        throw new Error(`cannot create cgroup ${dir}: ${describeFsError(error, dir)}`);
      });
      created.push(dir);
    }
    await writeLimits(version, dirs, limits);
  } catch (error) {
    // Only what this call created is removed: an existing cgroup of that name is not ours.
    await removeDirs(created, version).catch(() => {
      // The original error says what went wrong; a cleanup failure would only hide it.
    });
    throw error;
  }

  let removal: Promise<void> | undefined;
  let finalHit: LimitHit | null | undefined;
  return {
    paths,
    async add(pid) {
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`invalid pid ${pid}`);
      for (const dir of paths) {
        await writeFile(path.join(dir, "cgroup.procs"), String(pid)).catch((error: unknown) => {
          throw new Error(`cannot move pid ${pid} into ${dir}: ${describeFsError(error, dir)}`);
        });
      }
    },
    async limitHit() {
      // After remove() the counters are gone with the cgroup; remove() kept the last answer.
      return finalHit !== undefined ? finalHit : readLimitHit(version, dirs);
    },
    remove() {
      removal ??= (async () => {
        finalHit ??= await readLimitHit(version, dirs);
        await removeDirs(paths, version);
      })().catch((error: unknown) => {
        removal = undefined; // let a later call try again
        throw error;
      });
      return removal;
    },
  };
}

function checkLimits(limits: ResourceLimits): void {
  const { memoryBytes, maxProcesses, cpus } = limits;
  if (memoryBytes !== null && !(Number.isSafeInteger(memoryBytes) && memoryBytes > 0)) {
    throw new RangeError(`memoryBytes must be a positive integer or null, got ${memoryBytes}`);
  }
  if (maxProcesses !== null && !(Number.isSafeInteger(maxProcesses) && maxProcesses > 0)) {
    throw new RangeError(`maxProcesses must be a positive integer or null, got ${maxProcesses}`);
  }
  if (cpus !== null && !(Number.isFinite(cpus) && cpus > 0)) {
    throw new RangeError(`cpus must be a positive number or null, got ${cpus}`);
  }
}

/** The file that sets each controller's limit; its presence shows the controller is on. */
function limitFiles(version: 1 | 2): Record<Controller, string> {
  return version === 1
    ? { memory: "memory.limit_in_bytes", pids: "pids.max", cpu: "cpu.cfs_quota_us" }
    : { memory: "memory.max", pids: "pids.max", cpu: "cpu.max" };
}

async function writeLimits(version: 1 | 2, dirs: ControllerDirs, limits: ResourceLimits): Promise<void> {
  const files = limitFiles(version);
  const set = (controller: Controller, file: string, value: string) =>
    writeFile(path.join(dirs[controller], file), value).catch((error: unknown) => {
      throw new Error(`cannot set ${file} of ${dirs[controller]} to ${value}: ${describeFsError(error, dirs[controller])}`);
    });
  if (limits.memoryBytes !== null) {
    await set("memory", files.memory, String(limits.memoryBytes));
    // Without this, the group could swap out instead of meeting its limit. Best effort: a
    // kernel without swap accounting has no such file, and with no swap it does not matter.
    const [file, value] = version === 1 ? ["memory.swappiness", "0"] : ["memory.swap.max", "0"];
    await writeFile(path.join(dirs.memory, file), value).catch(() => {
      // Not writable or absent: the memory limit above still holds for resident memory.
    });
  }
  if (limits.maxProcesses !== null) await set("pids", files.pids, String(limits.maxProcesses));
  if (limits.cpus !== null) {
    const quotaUs = Math.max(CFS_MIN_QUOTA_US, Math.round(limits.cpus * CFS_PERIOD_US));
    if (version === 1) {
      await set("cpu", "cpu.cfs_period_us", String(CFS_PERIOD_US));
      await set("cpu", files.cpu, String(quotaUs));
    } else {
      await set("cpu", files.cpu, `${quotaUs} ${CFS_PERIOD_US}`);
    }
  }
}

/**
 * Memory first: an OOM kill is the more drastic event and explains a dead CLI better than a
 * refused fork that may have followed it.
 */
async function readLimitHit(version: 1 | 2, dirs: ControllerDirs): Promise<LimitHit | null> {
  if (version === 1) {
    const oomKills = await readCounter(path.join(dirs.memory, "memory.oom_control"), "oom_kill");
    // Kernels before 4.13 have no oom_kill line; failcnt also counts reclaim at the limit, so
    // it is only the fallback.
    const hit = oomKills !== undefined ? oomKills > 0 : Number(await readText(path.join(dirs.memory, "memory.failcnt"))) > 0;
    if (hit) return "memory";
  } else if (((await readCounter(path.join(dirs.memory, "memory.events"), "oom_kill")) ?? 0) > 0) {
    return "memory";
  }
  if (((await readCounter(path.join(dirs.pids, "pids.events"), "max")) ?? 0) > 0) return "processes";
  return null;
}

/** Kills everything in the cgroups, waits until they are empty, and deletes them. */
async function removeDirs(dirs: readonly string[], version: 1 | 2): Promise<void> {
  const deadline = Date.now() + REMOVE_TIMEOUT_MS;
  for (const dir of dirs) {
    for (;;) {
      const pids = await readPids(path.join(dir, "cgroup.procs"));
      if (pids.length === 0) break;
      if (Date.now() > deadline) throw new Error(`cgroup ${dir} still holds processes ${pids.join(", ")} after SIGKILL`);
      if (version === 2 && (await exists(path.join(dir, "cgroup.kill")))) {
        await writeFile(path.join(dir, "cgroup.kill"), "1");
      } else {
        for (const pid of pids) killQuietly(pid);
      }
      await sleep(REMOVE_POLL_MS);
    }
    for (;;) {
      try {
        await rmdir(dir);
        break;
      } catch (error) {
        const code = errorCode(error);
        if (code === "ENOENT") break; // already gone: that is what we wanted
        // EBUSY: the last process has left cgroup.procs but the kernel has not let go yet.
        if (code !== "EBUSY" || Date.now() > deadline) throw new Error(`cannot remove cgroup ${dir}: ${describeFsError(error, dir)}`);
        await sleep(REMOVE_POLL_MS);
      }
    }
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch (error) {
    if (errorCode(error) !== "ESRCH") throw error; // ESRCH: it exited on its own meanwhile
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
