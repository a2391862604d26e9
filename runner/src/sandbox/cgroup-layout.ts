/**
 * Where an attempt's cgroups go, and getting their parent ready: the cgroup version, the
 * directories of each controller, and (in cgroup v2) the delegated subtree.
 *
 * Where the cgroups go:
 * - cgroup v1 (memory, pids and cpu mounted as separate hierarchies under the root):
 *   `<root>/<controller>/<group>/<name>` in each of the three. In a container the mounted
 *   hierarchy is the container's own cgroup, so the container's limits still enclose every
 *   attempt.
 * - cgroup v2 (`<root>/cgroup.controllers` exists): under the runner's own cgroup (from
 *   `/proc/self/cgroup`), as `<own>/<group>/<name>`. A v2 cgroup cannot both hold processes and
 *   hand controllers to its children ("no internal processes"), so when enabling the
 *   controllers for `<own>`'s children is refused, the processes in `<own>` move to the leaf
 *   `<own>/runner` first — the same dance docker-in-docker does.
 * @module
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describeFsError, errorCode, exists, readPids, readWords } from "./cgroup-files.js";

/** v2: the leaf the runner's own processes move to when its cgroup must delegate controllers. */
const RUNNER_LEAF = "runner";
/** The controllers every attempt's cgroup gets. */
export const CONTROLLERS = ["memory", "pids", "cpu"] as const;
export type Controller = (typeof CONTROLLERS)[number];
export type ControllerDirs = Record<Controller, string>;

/** What an operator can do when cgroups are not usable, per version (and with none found). */
export const FIX_V1 =
  "mount the cgroup v1 memory, pids and cpu hierarchies writable into the runner's container " +
  "(e.g. -v /sys/fs/cgroup:/sys/fs/cgroup:rw), or set `sandbox_cgroup_limits: false` and rely on the container's own limits";
export const FIX_V2 =
  "give the runner its own cgroup namespace with a writable, delegated cgroup " +
  "(Docker: --cgroupns=private and a writable /sys/fs/cgroup; systemd: Delegate=yes), " +
  "or set `sandbox_cgroup_limits: false` and rely on the container's own limits";
const FIX_NONE =
  "mount cgroups writable (v2 at /sys/fs/cgroup, or the v1 memory, pids and cpu hierarchies), " +
  "or set `sandbox_cgroup_limits: false` and rely on the container's own limits";

/** Where an attempt's cgroups go, or why they cannot be made here. */
export type Layout = { ok: true; version: 1 | 2; parent: string; dirs: (name: string) => ControllerDirs } | { ok: false; reason: string; fix: string };

/** Finds the cgroup version and makes the parent of the attempts' cgroups ready. */
export async function resolveLayout(root: string, group: string): Promise<Layout> {
  if (await exists(path.join(root, "cgroup.controllers"))) return resolveV2(root, group);
  const missing: string[] = [];
  for (const controller of CONTROLLERS) {
    if (!(await exists(path.join(root, controller)))) missing.push(controller);
  }
  if (missing.length === CONTROLLERS.length) {
    return { ok: false, reason: `no cgroup file system at ${root} (neither v2 cgroup.controllers nor v1 memory, pids, cpu)`, fix: FIX_NONE };
  }
  if (missing.length > 0) {
    return { ok: false, reason: `cgroup v1 controllers not mounted under ${root}: ${missing.join(", ")}`, fix: FIX_V1 };
  }
  for (const controller of CONTROLLERS) {
    const dir = path.join(root, controller, group);
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      return { ok: false, reason: describeFsError(error, path.join(root, controller)), fix: FIX_V1 };
    }
  }
  return {
    ok: true,
    version: 1,
    parent: path.join(root, `{${CONTROLLERS.join(",")}}`, group),
    dirs: (name) => ({
      memory: path.join(root, "memory", group, name),
      pids: path.join(root, "pids", group, name),
      cpu: path.join(root, "cpu", group, name),
    }),
  };
}

/**
 * cgroup v2: the attempts go under `<own>/<group>`, with the three controllers enabled on the
 * way down. Untested here (the test machines run v1); kept to the documented steps.
 */
async function resolveV2(root: string, group: string): Promise<Layout> {
  let own: string;
  try {
    const line = (await readFile("/proc/self/cgroup", "utf8")).split("\n").find((l) => l.startsWith("0::"));
    if (line === undefined) throw new Error("no 0:: line");
    own = line.slice(3);
  } catch (error) {
    return { ok: false, reason: `cannot tell the runner's own cgroup from /proc/self/cgroup: ${String(error)}`, fix: FIX_V2 };
  }
  // After an earlier call moved the runner into <own>/runner, <own> is still the base.
  if (path.posix.basename(own) === RUNNER_LEAF) own = path.posix.dirname(own);
  const base = path.join(root, own);
  const groupDir = path.join(base, group);
  const fail = (reason: string): Layout => ({ ok: false, reason, fix: FIX_V2 });

  const available = await readWords(path.join(base, "cgroup.controllers"));
  const undelegated = CONTROLLERS.filter((c) => !available.includes(c));
  if (undelegated.length > 0) return fail(`controllers not delegated to ${base}: ${undelegated.join(", ")}`);

  try {
    await enableControllers(base, async () => {
      // "No internal processes": <own> may only delegate once it holds no processes itself.
      const leaf = path.join(base, RUNNER_LEAF);
      await mkdir(leaf, { recursive: true });
      for (const pid of await readPids(path.join(base, "cgroup.procs"))) {
        await writeFile(path.join(leaf, "cgroup.procs"), String(pid)).catch((error: unknown) => {
          if (errorCode(error) !== "ESRCH") throw error; // ESRCH: it exited meanwhile
        });
      }
    });
    await mkdir(groupDir, { recursive: true });
    await enableControllers(groupDir);
  } catch (error) {
    return fail(describeFsError(error, base));
  }
  return {
    ok: true,
    version: 2,
    parent: groupDir,
    dirs: (name) => {
      const dir = path.join(groupDir, name);
      return { memory: dir, pids: dir, cpu: dir };
    },
  };
}

/** Enables memory, pids and cpu for `dir`'s children; `vacate` runs once if `dir` holds processes. */
async function enableControllers(dir: string, vacate?: () => Promise<void>): Promise<void> {
  const enabled = await readWords(path.join(dir, "cgroup.subtree_control"));
  const wanted = CONTROLLERS.filter((c) => !enabled.includes(c));
  if (wanted.length === 0) return;
  const write = () => writeFile(path.join(dir, "cgroup.subtree_control"), wanted.map((c) => `+${c}`).join(" "));
  try {
    await write();
  } catch (error) {
    if (errorCode(error) !== "EBUSY" || vacate === undefined) throw error;
    await vacate();
    await write();
  }
}
