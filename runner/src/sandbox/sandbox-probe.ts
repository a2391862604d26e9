/**
 * Can this machine build the sandbox the configuration asks for? Checked once at start-up.
 *
 * A runner that cannot isolate its CLIs must not lease anything, so start-up builds one real
 * sandbox (in a throw-away workspace, running `true`) and, when limits are on, one cgroup. A
 * failure names the missing piece and the fix; `sandbox: none` is the only way round, and a
 * deliberate one.
 * @module
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ProcessRunner } from "./process-runner.js";
import { createWorkspace } from "../workspace/workspace.js";
import { createBubblewrapSandbox } from "./bubblewrap-sandbox.js";
import { probeCgroups } from "./cgroup-limits.js";
import { findOnPath } from "./cli-installation.js";
import type { Sandbox, SandboxLimits } from "./sandbox.js";

export type SandboxProbe = { ok: true; sandbox: Sandbox } | { ok: false; problem: string; fix: string };

const INSTALL_FIX =
  "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora/RHEL: dnf install bubblewrap; Alpine: apk add bubblewrap), or set sandbox: none on a development machine";
const USERNS_FIX =
  "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0; Ubuntu 24.04+: kernel.apparmor_restrict_unprivileged_userns=0), and in a container the namespace system calls (see docs/deployment.md: Docker --security-opt seccomp=… and apparmor=unconfined, Kubernetes securityContext)";

/**
 * @example
 * const probe = await probeSandbox({ processes, pathEnv, limits, cgroups: config.sandbox_cgroup_limits });
 * if (!probe.ok) exit(`${probe.problem}. Fix: ${probe.fix}`);
 */
export async function probeSandbox(options: {
  processes: ProcessRunner;
  pathEnv: string;
  limits: SandboxLimits;
  cgroups: boolean;
  diskCheckIntervalMs?: number;
}): Promise<SandboxProbe> {
  const bwrapPath = await findOnPath("bwrap", options.pathEnv);
  if (!bwrapPath) return { ok: false, problem: "bubblewrap (bwrap) is not on the PATH", fix: INSTALL_FIX };
  if (options.cgroups) {
    const cgroups = await probeCgroups();
    if (!cgroups.ok) return { ok: false, problem: `resource limits need cgroups: ${cgroups.reason}`, fix: cgroups.fix };
  }
  const sandbox = await createBubblewrapSandbox({
    processes: options.processes,
    bwrapPath,
    limits: options.limits,
    cgroups: options.cgroups,
    diskCheckIntervalMs: options.diskCheckIntervalMs,
  });
  const root = await mkdtemp(path.join(os.tmpdir(), "codeforge-probe-"));
  try {
    const workspace = await createWorkspace({ root, taskId: "probe", attempt: 1 });
    await mkdir(workspace.repoDir);
    const attempt = await sandbox.open({
      workspace,
      readOnly: [],
      egress: { pool: [], task: null, allowedNetworks: [] },
      onEgressDenied: () => undefined,
      onLimit: () => undefined,
    });
    try {
      const child = attempt.start({ command: "true", args: [], env: { PATH: options.pathEnv } });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.resume();
      const exit = await child.exited;
      if (exit.exitCode !== 0) {
        const said = stderr.trim().split("\n")[0] || `exit ${exit.exitCode ?? exit.signal ?? exit.spawnError}`;
        const userns = /namespace|uid map|Operation not permitted|Permission denied/i.test(said);
        return { ok: false, problem: `bubblewrap cannot build a sandbox here (${said})`, fix: userns ? USERNS_FIX : INSTALL_FIX };
      }
    } finally {
      await attempt.close();
    }
    return { ok: true, sandbox };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
