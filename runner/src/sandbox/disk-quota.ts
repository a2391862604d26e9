/**
 * Watches how much disk an attempt's directories use and says once when they pass a quota.
 *
 * The workspace lives on a plain directory of the runner's disk, and neither bubblewrap nor
 * cgroups limit how much a process writes to it (cgroup v1 has no disk-space controller; the
 * `io` controller limits bandwidth, not bytes). File-system quotas (project quotas, a loop
 * device per attempt) would need root on the host and a file system that supports them. So the
 * runner measures instead: a `du`-like walk (`workspace/disk-usage.ts`: hard links once,
 * symlinks never followed, vanishing files skipped) every few seconds, and the caller stops the
 * attempt when `onExceeded` fires. A CLI can overshoot by what it writes within one interval;
 * that is the price of needing no privileges.
 *
 * Walks never overlap: the next one is scheduled when the previous one has finished, so a
 * slow walk over a huge tree only makes the figure less fresh and never piles up work.
 * @module
 */
import { diskUsageTotalBytes } from "../workspace/disk-usage.js";

/**
 * Default time between two measurements. A walk of a typical checkout (tens of thousands of
 * files) takes well under a second, so 2 s keeps the overshoot small without keeping a CPU
 * busy measuring.
 */
export const DISK_QUOTA_INTERVAL_MS = 2_000;

export interface DiskQuotaOptions {
  /** Directories whose total use is limited (workspace, scratch, the CLI's home). */
  dirs: readonly string[];
  /** The quota: `onExceeded` fires once the total is above this many bytes. */
  maxBytes: number;
  /** Pause between the end of one measurement and the start of the next. */
  intervalMs?: number;
  /** Called once, with the total measured, when it passes `maxBytes`; watching then stops. */
  onExceeded: (usedBytes: number) => void;
  /** Measures the total; the default is the `du`-like walk. */
  measure?: (dirs: readonly string[]) => Promise<number>;
  /** Told about a measurement that failed; the next one is scheduled as usual. */
  onError?: (error: unknown) => void;
}

/**
 * Starts watching at once (the first measurement runs immediately) until `stop()` or until the
 * quota is exceeded.
 * @example
 * const quota = watchDiskQuota({
 *   dirs: [workspaceDir],
 *   maxBytes: 10 * 1024 ** 3,
 *   onExceeded: (used) => attempt.fail(`disk quota: ${used} bytes used, limit ${10 * 1024 ** 3}`),
 * });
 * try { await attempt.run(); } finally { quota.stop(); }
 */
export function watchDiskQuota(options: DiskQuotaOptions): { stop(): void } {
  const { dirs, maxBytes, intervalMs = DISK_QUOTA_INTERVAL_MS, onExceeded, measure = diskUsageTotalBytes, onError = () => {} } = options;
  if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a number ≥ 0, got ${maxBytes}`);
  if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be > 0, got ${intervalMs}`);

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(tick, intervalMs);
    // A forgotten watcher must not keep the runner process alive.
    timer.unref();
  };

  const tick = async () => {
    timer = undefined;
    let used: number;
    try {
      used = await measure(dirs);
    } catch (error) {
      if (!stopped) onError(error);
      schedule();
      return;
    }
    if (stopped) return; // stopped while measuring: the figure is no longer wanted
    if (used > maxBytes) {
      stopped = true;
      try {
        onExceeded(used);
      } catch (error) {
        onError(error); // the caller's own failure: report it rather than reject a promise nobody awaits
      }
      return;
    }
    schedule();
  };

  void tick();
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
