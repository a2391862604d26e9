/**
 * The per-attempt limits the runner's configuration sets, in the units the sandbox works in.
 * @module
 */
import type { RunnerConfig } from "../config.js";
import type { SandboxLimits } from "./sandbox.js";

const MIB = 1_048_576;

/**
 * @example
 * sandboxLimits(config); // { memoryBytes: 4294967296, maxProcesses: 1024, cpus: null, diskBytes: 10737418240 }
 */
export function sandboxLimits(
  config: Pick<RunnerConfig, "sandbox_memory_mb" | "sandbox_max_processes" | "sandbox_cpus" | "sandbox_disk_mb" | "sandbox_cgroup_limits">,
): SandboxLimits {
  const cgroups = config.sandbox_cgroup_limits;
  return {
    memoryBytes: cgroups ? config.sandbox_memory_mb * MIB : null,
    maxProcesses: cgroups ? config.sandbox_max_processes : null,
    cpus: cgroups ? (config.sandbox_cpus ?? null) : null,
    diskBytes: config.sandbox_disk_mb * MIB,
  };
}
