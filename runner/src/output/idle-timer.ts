/**
 * Fires once when nothing has happened for a while: the CLI stall detector.
 *
 * A CLI that waits for input nobody will give (a login prompt, a confirmation), or a tool
 * that hangs, prints nothing while the task's wall-clock timeout runs on for hours. The task
 * runner touches this timer on every piece of output; when `idleMs` pass without one, the
 * attempt ends as `stalled`. Liveness here is output, not heartbeats: the runner's heartbeats
 * say the runner is alive, not that the CLI makes progress.
 * @module
 */

export interface IdleTimer {
  /** Something happened: the countdown starts again. */
  touch(): void;
  stop(): void;
}

/**
 * @example
 * const stall = startIdleTimer(lease.task.stall_timeout_seconds * 1000, () => stop("stalled"));
 * for await (const chunk of cli.stdout) { stall.touch(); … }
 */
export function startIdleTimer(idleMs: number, onIdle: () => void): IdleTimer {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(fire, idleMs);
  };
  const fire = () => {
    if (stopped) return;
    stopped = true;
    onIdle();
  };
  arm();
  return {
    touch: arm,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
