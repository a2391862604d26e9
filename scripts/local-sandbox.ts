/**
 * Which sandbox a runner started by `npm start` uses: the real one wherever this machine can
 * build it, so the local demo runs as production does, and otherwise none — said out loud, not
 * silently — so that `npm start` still works on a laptop without bubblewrap or namespaces.
 * An explicit `CODEFORGE_SANDBOX` among the runner settings `npm start` was given is kept as it
 * is.
 * @module
 */
import { createProcessRunner } from "../runner/src/sandbox/process-runner.js";
import { probeSandbox } from "../runner/src/sandbox/sandbox-probe.js";

const PROBE_LIMITS = { memoryBytes: null, maxProcesses: null, cpus: null, diskBytes: null };

/**
 * The sandbox settings to add to `given` (the caller's runner settings) for a local stack, and a
 * line saying what was chosen.
 */
export async function localSandboxSettings(
  given: Record<string, string>,
  pathEnv: string = process.env.PATH ?? "/usr/bin:/bin",
): Promise<{ env: Record<string, string>; summary: string }> {
  if (given.CODEFORGE_SANDBOX) return { env: given, summary: `sandbox: ${given.CODEFORGE_SANDBOX} (from CODEFORGE_SANDBOX)` };
  const processes = createProcessRunner({ killGraceMs: 1_000 });
  const withLimits = await probeSandbox({ processes, pathEnv, limits: PROBE_LIMITS, cgroups: given.CODEFORGE_SANDBOX_CGROUP_LIMITS !== "false" });
  if (withLimits.ok) return { env: given, summary: "sandbox: bubblewrap" };
  const withoutLimits = await probeSandbox({ processes, pathEnv, limits: PROBE_LIMITS, cgroups: false });
  if (withoutLimits.ok) {
    return {
      env: { ...given, CODEFORGE_SANDBOX_CGROUP_LIMITS: "false" },
      summary: `sandbox: bubblewrap without memory, process and CPU limits (${withLimits.problem})`,
    };
  }
  return { env: { ...given, CODEFORGE_SANDBOX: "none" }, summary: `sandbox: none — ${withLimits.problem}. To sandbox the CLIs: ${withLimits.fix}` };
}
