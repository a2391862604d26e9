/**
 * What `/readyz` answers: ready only while the runner takes work, has reached its edge
 * recently, and still has every CLI it advertises.
 *
 * - Taking work: false once shutting down (after SIGTERM).
 * - Edge: some call succeeded within `edgeContactMaxMs` — an idle runner long-polls (≤ ~25 s a
 *   poll), a busy one heartbeats every few seconds, so silence beyond that means the edge is
 *   unreachable or refusing it (a wrong secret), and an orchestrator should not count it.
 * - CLIs: re-checked in the background every `cliRecheckMs` (a check runs `--version`-like
 *   probes; a probe must stay cheap), so a CLI removed or broken under a running runner shows.
 * @module
 */

export interface ReadinessOptions {
  accepting: () => boolean;
  lastEdgeContactAt: () => number | null;
  edgeContactMaxMs: number;
  /** The CLIs advertised in lease requests. */
  advertisedClis: readonly string[];
  /** The CLIs available now (the adapters' availability checks). */
  checkClis: () => Promise<readonly string[]>;
  cliRecheckMs?: number;
  now?: () => number;
  /** Extra detail reported as is (running tasks, concurrency). */
  detail?: () => Record<string, unknown>;
}

export interface Readiness {
  check(): { ready: boolean; detail: Record<string, unknown> };
  stop(): void;
}

/** Often enough to notice a broken CLI within a couple of probe periods. */
export const CLI_RECHECK_MS = 60_000;

export function createReadiness(options: ReadinessOptions): Readiness {
  const now = options.now ?? Date.now;
  let missing: string[] = [];
  const recheck = async () => {
    try {
      const available = new Set(await options.checkClis());
      missing = options.advertisedClis.filter((cli) => !available.has(cli));
    } catch {
      // A check that cannot run says nothing about the CLIs: keep the last answer.
    }
  };
  const timer = setInterval(() => void recheck(), options.cliRecheckMs ?? CLI_RECHECK_MS);
  timer.unref();
  return {
    check() {
      const problems: string[] = [];
      if (!options.accepting()) problems.push("shutting down: not taking work");
      const last = options.lastEdgeContactAt();
      if (last === null) problems.push("the edge has not been reached yet");
      else if (now() - last > options.edgeContactMaxMs) problems.push(`the edge was last reached ${Math.round((now() - last) / 1_000)} s ago`);
      if (missing.length) problems.push(`CLIs no longer available: ${missing.join(", ")}`);
      return {
        ready: problems.length === 0,
        detail: {
          ...options.detail?.(),
          last_edge_contact_at: last === null ? null : new Date(last).toISOString(),
          ...(problems.length ? { problems } : {}),
        },
      };
    },
    stop() {
      clearInterval(timer);
    },
  };
}
