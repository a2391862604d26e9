/**
 * The boundary an attempt's CLI runs in: the interface the task runner sees.
 *
 * The task runner opens an `AttemptSandbox` for each attempt once the checkout is ready, starts
 * the CLI through it, asks it afterwards which resource limit (if any) the attempt hit, and
 * closes it. Two kinds exist: `bubblewrap` (`bubblewrap-sandbox.ts`, the default on Linux) and
 * `none` (below: the CLI runs as a plain child process of the runner, for development machines
 * without namespaces; chosen only by an explicit setting, and every attempt says so).
 *
 * The paths the CLI is given (its checkout, HOME, TMPDIR, scratch directory) come from the
 * sandbox, because inside bubblewrap they are not the host's paths.
 * @module
 */
import type { CidrRange } from "#api/index.js";
import type { ProcessRunner, ProcessSpec, RunningProcess } from "./process-runner.js";
import type { HostLookup } from "../git/repo-host-check.js";
import type { Workspace } from "../workspace/workspace.js";
import type { EgressDenial } from "./egress-proxy.js";
import type { ModelGateway } from "./model-gateway.js";

export type SandboxKind = "bubblewrap" | "none";

/** A limit an attempt can hit, as the `resource_limit` error names it. */
export type LimitName = "memory" | "processes" | "disk";

/** Limits per attempt; null: not limited. */
export interface SandboxLimits {
  memoryBytes: number | null;
  maxProcesses: number | null;
  /** A hard CPU quota in CPUs (1.5 = one and a half cores). */
  cpus: number | null;
  /** Bytes the checkout, HOME, TMPDIR and scratch directory may hold together. */
  diskBytes: number | null;
}

/** The attempt's directories as the CLI sees them. */
export interface AttemptPaths {
  repo: string;
  home: string;
  tmp: string;
  scratch: string;
}

/** What the egress proxy needs per attempt. */
export interface EgressPolicy {
  /** The pool's allowed host patterns for this attempt (policy plus model API and repository hosts). */
  pool: readonly string[];
  /** The task's narrowing, or null. */
  task: readonly string[] | null;
  /** Non-public networks that may still be reached (`egress_allowed_networks`). */
  allowedNetworks: readonly CidrRange[];
  lookup?: HostLookup;
  /** The attempt's model gateway, reached through the proxy (so the sandbox gets one even with no host allowed). */
  gateway?: ModelGateway;
  /** Hosts refused whatever `pool` allows (the model APIs while setting up), and why. */
  refuse?: { patterns: readonly string[]; reason: string };
}

export interface OpenAttemptOptions {
  workspace: Workspace;
  /** Paths of the CLI's installation, shown read-only. */
  readOnly: readonly string[];
  egress: EgressPolicy;
  onEgressDenied: (denial: EgressDenial) => void;
  /** Called when a limit the runner watches (disk) is passed, so the attempt can be stopped. */
  onLimit: (limit: LimitName) => void;
}

export interface AttemptSandbox {
  readonly kind: SandboxKind;
  readonly paths: AttemptPaths;
  /** Variables the CLI's environment needs for this sandbox (the proxy's address). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Gets the CLI ready to start inside, and starts it at `go()`: the sandbox is built meanwhile
   * (while the runner clones), so the CLI starts without waiting for it. `spec.cwd` is ignored:
   * the CLI starts in `paths.repo`, which must exist (it may still be empty).
   */
  launch(spec: Omit<ProcessSpec, "cwd">): CliLaunch;
  /** `launch(spec).go()`. */
  start(spec: Omit<ProcessSpec, "cwd">): RunningProcess;
  /**
   * A phase before the CLI (the task's setup): processes started in the same sandbox — mounts,
   * limits, cgroup — while the CLI is still held, but with an egress policy of their own (and
   * so a proxy of their own, closed by `close()`). Each `start` runs in `paths.repo`.
   */
  openPhase(options: PhaseOptions): Promise<SandboxPhase>;
  /** After the CLI exited: the limit the attempt hit, or null. */
  limitHit(): Promise<LimitName | null>;
  /** Stops the proxy, removes the limits' bookkeeping. Safe to call more than once. */
  close(): Promise<void>;
}

export interface PhaseOptions {
  egress: EgressPolicy;
  onEgressDenied: (denial: EgressDenial) => void;
  /** A directory lent writable to this phase's processes only (the dependency cache). */
  dependencyCacheDir?: string;
}

/** Processes of a phase before the CLI, under the phase's egress policy. */
export interface SandboxPhase {
  /** Variables the phase's processes need (the phase's proxy address). */
  readonly env: Readonly<Record<string, string>>;
  /** Where the phase's processes see `dependencyCacheDir`; null when none was lent. */
  readonly dependencyCacheDir: string | null;
  start(spec: Omit<ProcessSpec, "cwd">): RunningProcess;
  /** Stops the phase's proxy. Safe to call more than once. */
  close(): Promise<void>;
}

/** A CLI ready to start in its sandbox. */
export interface CliLaunch {
  /** Starts the CLI (once). */
  go(): RunningProcess;
  /** Gives up a launch that was never started, ending whatever was prepared for it. */
  abandon(): Promise<void>;
}

export interface Sandbox {
  readonly kind: SandboxKind;
  readonly limits: SandboxLimits;
  open(options: OpenAttemptOptions): Promise<AttemptSandbox>;
}

/**
 * No sandbox: the CLI runs as a child process of the runner with the runner's view of the
 * machine. For development only; nothing here stops what the CLI runs.
 * @example
 * const sandbox = createNoSandbox({ processes });
 */
export function createNoSandbox(options: { processes: ProcessRunner }): Sandbox {
  return {
    kind: "none",
    limits: { memoryBytes: null, maxProcesses: null, cpus: null, diskBytes: null },
    async open({ workspace }) {
      const paths = { repo: workspace.repoDir, home: workspace.homeDir, tmp: workspace.tmpDir, scratch: workspace.scratchDir };
      const start = (spec: Omit<ProcessSpec, "cwd">) => options.processes.start({ ...spec, cwd: paths.repo });
      return {
        kind: "none",
        paths,
        env: {},
        launch: (spec) => ({ go: () => start(spec), abandon: async () => undefined }),
        start,
        // No sandbox, no proxy: a phase sees the network as the runner does.
        openPhase: async (phase) => ({ env: {}, dependencyCacheDir: phase.dependencyCacheDir ?? null, start, close: async () => undefined }),
        limitHit: async () => null,
        close: async () => undefined,
      };
    },
  };
}

/** How a limit reads in the task's error, e.g. "the memory limit (512 MiB)". */
export function describeLimit(limit: LimitName, limits: SandboxLimits): string {
  const mib = (bytes: number | null) => (bytes === null ? "" : ` (${Math.round(bytes / 1_048_576)} MiB)`);
  switch (limit) {
    case "memory":
      return `the sandbox's memory limit${mib(limits.memoryBytes)}`;
    case "processes":
      return `the sandbox's process limit${limits.maxProcesses === null ? "" : ` (${limits.maxProcesses} processes)`}`;
    case "disk":
      return `the workspace's disk limit${mib(limits.diskBytes)}`;
  }
}
