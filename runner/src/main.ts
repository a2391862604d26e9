/**
 * The runner's entry point: the only place that builds real dependencies.
 *
 * Reads the configuration (exiting with a clear message when it is wrong), checks which CLIs
 * are installed, then leases and runs tasks until SIGTERM or SIGINT. The first signal stops
 * leasing and lets running tasks finish within `shutdown_grace_ms` (the rest are stopped and
 * handed back to the edge, which re-queues them at once); a second signal exits at once,
 * killing every CLI.
 * Logs are JSON lines on stdout (pino, see `runner-logger.ts`) with `runner_id` on every line and
 * `task_id` on task lines, secrets redacted, high-volume lines sampled.
 *
 * Run-once mode (`--once`) leases one task, runs it to its end, reports it and exits 0; with an
 * idle exit (`--idle-exit-seconds <n>`) the runner exits 0 after that long with nothing leased
 * and nothing running. Either exits 1 only on a fault of the runner: a task whose run broke
 * with an unexpected error, or a lease request the edge refused (a bad or expired credential).
 *
 * Run: `npm run runner -- --config runner.yaml` (or set `CODEFORGE_*` variables).
 * `npm run runner -- --check` prints what the sandbox enforces on this machine and exits
 * non-zero when something fails (see `sandbox/sandbox-self-check.ts`).
 * @module
 */
import { readFileSync } from "node:fs";
import { Registry } from "prom-client";
import { configuredAdapters } from "./cli/configured-adapters.js";
import { createCliRegistry } from "./cli/registry.js";
import { ConfigError, loadConfig, signingKey, type RunnerConfig } from "./config.js";
import { dependencyCacheDir } from "./config-dependency-cache.js";
import { repoCacheDir } from "./config-repo-cache.js";
import { createRepoCache } from "./git/repo-cache.js";
import { createDependencyCache } from "./attempt/dependency-cache.js";
import { createEdgeClient } from "./edge-link/edge-client.js";
import { watchEdgeContact } from "./edge-link/edge-contact.js";
import { startHealthServer, type HealthServer } from "./telemetry/health-server.js";
import { createLeaseLoop } from "./edge-link/lease-loop.js";
import { createProcessRunner } from "./sandbox/process-runner.js";
import { createReadiness } from "./telemetry/readiness.js";
import { createRunnerLogger, sampledLogger } from "./telemetry/runner-logger.js";
import { createRunnerMetrics } from "./telemetry/runner-metrics.js";
import { createTaskRunner } from "./task-runner.js";
import type { Logger } from "pino";
import type { ProcessRunner } from "./sandbox/process-runner.js";
import { createNoSandbox, type Sandbox } from "./sandbox/sandbox.js";
import { probeSandbox } from "./sandbox/sandbox-probe.js";
import { sandboxLimits } from "./sandbox/sandbox-limits.js";
import { runSandboxSelfCheck } from "./sandbox/sandbox-self-check.js";
import { startTracing } from "./telemetry/tracing.js";
import { tracingConfigFromEnv, type TracingConfig } from "./telemetry/tracing-config.js";

/** Sent as `runner_version` in lease requests and in the User-Agent. */
export const RUNNER_VERSION = "0.1.0";

/** PATH for git and CLIs when the runner's own is unset. */
const FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin";

async function main(): Promise<void> {
  const checking = process.argv.includes("--check");
  let config: RunnerConfig;
  let tracingConfig: TracingConfig | null;
  try {
    config = loadConfig({
      argv: process.argv.slice(2),
      env: process.env,
      readFile: (file) => readFileSync(file, "utf8"),
      // The self-check talks to no edge: it needs neither an address nor a secret of its own.
      defaults: checking ? { edge_url: "http://127.0.0.1:9", runner_secret: "self-check-without-a-runner-secret" } : {},
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`codeforge-runner: ${err.message}\n`);
    process.exit(1);
  }
  try {
    // Tracing takes the standard OTEL_* variables (see tracing.ts); off without an endpoint.
    tracingConfig = tracingConfigFromEnv(process.env);
  } catch (err) {
    process.stderr.write(`codeforge-runner: invalid tracing configuration: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const tracing = startTracing(tracingConfig, { runnerId: config.runner_id, version: RUNNER_VERSION });

  const logger = createRunnerLogger({ level: config.log_level, format: config.log_format, runnerId: config.runner_id });
  const highVolume = sampledLogger(logger, config.log_sample_ratio);

  const pathEnv = process.env.PATH || FALLBACK_PATH;
  if (checking) {
    const ok = await runSandboxSelfCheck({
      config,
      processes: createProcessRunner({ killGraceMs: 1_000 }),
      pathEnv,
      print: (line) => process.stdout.write(`${line}\n`),
    });
    process.exit(ok ? 0 : 1);
  }
  const registry = await createCliRegistry(configuredAdapters(config, pathEnv));
  const clis = registry.names();
  if (clis.length === 0) {
    logger.fatal("no coding CLI is available on this machine; nothing to lease");
    process.exit(1);
  }

  const processes = createProcessRunner({ killGraceMs: config.kill_grace_ms });
  const sandbox = await buildSandbox(config, processes, pathEnv, logger);
  const metricsRegistry = new Registry();
  const metrics = createRunnerMetrics({ register: metricsRegistry, workspaceRoot: config.workspace_root });
  const signing = signingKey(config);
  const edge = watchEdgeContact(createEdgeClient({ edgeUrl: config.edge_url, ...signing, userAgent: `codeforge-runner/${RUNNER_VERSION}` }), { metrics });
  const client = edge.client;
  const taskRunner = createTaskRunner({
    client,
    registry,
    sandbox,
    egress: { allow: config.egress_allow, allowedNetworks: config.egress_allowed_networks },
    runnerSecret: signing.secret,
    workspaceRoot: config.workspace_root,
    gitPolicy: { allowFile: config.local_mode, allowSsh: config.allow_ssh, allowedNetworks: config.git_allowed_networks },
    commitIdentity: { name: config.git_author_name, email: config.git_author_email },
    pathEnv,
    logger,
    outputMaxBytes: config.output_max_bytes,
    stallTimeoutSeconds: config.stall_timeout_seconds,
    modelPrices: config.model_prices,
    budgetDefaults: {
      maxCostUsd: config.default_max_cost_usd ?? null,
      maxTokens: config.default_max_tokens ?? null,
      maxTurns: config.default_max_turns ?? null,
    },
    setup: {
      commands: config.setup_commands,
      timeoutSeconds: config.setup_timeout_seconds,
      egressAllow: config.setup_egress_allow,
      repositoryScript: config.setup_repository_script,
    },
    metrics,
    highVolumeLogger: highVolume,
    repoCache: config.repo_cache ? createRepoCache({ dir: repoCacheDir(config), maxBytes: config.repo_cache_max_mb * 1024 * 1024 }) : undefined,
    dependencyCache: config.dependency_cache
      ? createDependencyCache({ dir: dependencyCacheDir(config), pool: config.pool, maxBytes: config.dependency_cache_max_mb * 1024 * 1024 })
      : undefined,
  });
  const loop = createLeaseLoop({
    client,
    run: taskRunner.run,
    concurrency: config.concurrency,
    leaseRequest: {
      runner_id: config.runner_id,
      runner_version: RUNNER_VERSION,
      pool: config.pool,
      clis,
      labels: config.labels,
      wait_ms: config.lease_wait_ms,
    },
    logger,
    pollLogger: highVolume,
    maxTasks: config.once ? 1 : undefined,
    idleExitMs: config.idle_exit_seconds === undefined ? undefined : config.idle_exit_seconds * 1_000,
  });

  const readiness = createReadiness({
    accepting: () => loop.accepting,
    lastEdgeContactAt: edge.lastContactAt,
    // An idle runner is heard from once per long poll; allow two of them and the trip.
    edgeContactMaxMs: Math.max(60_000, 2 * config.lease_wait_ms + 10_000),
    advertisedClis: clis,
    checkClis: async () => (await createCliRegistry(configuredAdapters(config, pathEnv))).names(),
    detail: () => ({ running: loop.running, concurrency: config.concurrency }),
  });
  let health: HealthServer | undefined;
  if (config.health_port !== 0) {
    health = await startHealthServer({
      port: config.health_port,
      host: config.health_host,
      readiness: readiness.check,
      metrics: metricsRegistry,
    });
    logger.info({ port: health.port }, "health endpoints listening");
  }

  // Whatever happens to the runner, its CLIs do not outlive it.
  process.on("exit", () => processes.killAll());
  let exiting: Promise<void> | undefined;
  /** Closes what the runner opened, once, then exits with `code`. */
  const exit = (code: number) =>
    (exiting ??= Promise.resolve()
      .then(() => readiness.stop())
      .then(() => health?.close())
      .then(() => tracing.shutdown())
      .then(() => {
        logger.info({ exit_code: code }, "stopped");
        process.exit(code);
      }));
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(130);
    }
    logger.info({ signal, grace_ms: config.shutdown_grace_ms }, "shutting down");
    void loop.stop(config.shutdown_grace_ms).then(() => exit(0));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  logger.info(
    {
      edge_url: config.edge_url,
      pool: config.pool,
      labels: config.labels,
      clis,
      concurrency: config.once ? 1 : config.concurrency,
      ...(config.once ? { once: true } : {}),
      ...(config.idle_exit_seconds !== undefined ? { idle_exit_seconds: config.idle_exit_seconds } : {}),
      local_mode: config.local_mode,
      // The credential's id and expiry only: its secret, like the runner secret, is never logged.
      ...(config.runner_credential
        ? { credential_id: config.runner_credential.id, credential_expires_at: new Date(config.runner_credential.expiresAtSeconds * 1_000).toISOString() }
        : {}),
      sandbox: sandbox.kind,
      ...(sandbox.kind === "bubblewrap" ? { limits: sandbox.limits, egress_allow: config.egress_allow } : {}),
      ...(config.git_allowed_networks.length ? { git_allowed_networks: config.git_allowed_networks.map((network) => network.text) } : {}),
      tracing: tracingConfig ? { endpoint: new URL(tracingConfig.url).origin, ratio: tracingConfig.ratio } : "off",
    },
    "runner started",
  );
  const result = await loop.start();
  // Stopped by a signal: the signal's handler finishes the shutdown.
  if (result.end === "stopped") return;
  await exit(result.faults > 0 || result.end === "refused" ? 1 : 0);
}

/** The configured sandbox, built and proven once; exits naming the fix when it cannot be. */
async function buildSandbox(config: RunnerConfig, processes: ProcessRunner, pathEnv: string, logger: Logger): Promise<Sandbox> {
  if (config.sandbox === "none") {
    logger.warn("sandbox: none — CLIs run without a sandbox and with edits only; for development machines, never for untrusted repositories");
    return createNoSandbox({ processes });
  }
  const probe = await probeSandbox({ processes, pathEnv, limits: sandboxLimits(config), cgroups: config.sandbox_cgroup_limits });
  if (!probe.ok) {
    logger.fatal({ problem: probe.problem, fix: probe.fix }, "cannot build the sandbox; not starting");
    process.stderr.write(`codeforge-runner: cannot build the sandbox: ${probe.problem}.\n  Fix: ${probe.fix}.\n`);
    process.exit(1);
  }
  return probe.sandbox;
}

main().catch((err: unknown) => {
  process.stderr.write(`codeforge-runner: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
