/**
 * Whether a CLI binary is installed and runs: `<binary> --version`, with a timeout.
 *
 * Checked once at start-up so the runner advertises only CLIs it can start. Run like a task's
 * CLI would be — argv, no shell, a clean environment with just `PATH`, `HOME` and `LANG` —
 * so a binary that only works with the runner's own environment is not mistaken for
 * available, and a binary that hangs (waiting for a login, say) counts as missing after the
 * timeout instead of stalling start-up. The timeout is per CLI: 10 s by default, longer for a
 * CLI known to start slowly (Gemini CLI's adapter waits 30 s).
 * @module
 */
import { execa } from "execa";
import os from "node:os";

export interface VersionProbeOptions {
  command: string;
  args?: readonly string[];
  /** `PATH` to find the binary in. */
  pathEnv: string;
  /** `HOME` for the probe; some CLIs touch their config directory even for `--version`. */
  homeDir?: string;
  /** Settings for the probe beyond `PATH`, `HOME` and `LANG` (never secrets). */
  env?: Readonly<Record<string, string>>;
  /** Defaults to `VERSION_PROBE_TIMEOUT_MS`; an adapter of a slow-starting CLI sets its own. */
  timeoutMs?: number;
}

/** How long a `--version` may take: generous for a cold Node or Python start. */
export const VERSION_PROBE_TIMEOUT_MS = 10_000;

/**
 * The first line the binary prints for `--version`, or null when it is missing, fails or hangs.
 * @example
 * const version = await probeVersion({ command: "claude", pathEnv: process.env.PATH ?? "" });
 */
export async function probeVersion(options: VersionProbeOptions): Promise<string | null> {
  const child = execa(options.command, [...(options.args ?? ["--version"])], {
    env: { ...options.env, PATH: options.pathEnv, HOME: options.homeDir ?? os.tmpdir(), LANG: "C.UTF-8" },
    extendEnv: false,
    stdin: "ignore",
    reject: false,
    maxBuffer: 65_536,
    // Its own process group, so a timeout also ends what it started (a wrapper script's
    // child would otherwise hold the pipes open, and the probe with them).
    detached: true,
    cleanup: false,
  });
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // ESRCH: it ended just now.
    }
  }, options.timeoutMs ?? VERSION_PROBE_TIMEOUT_MS);
  const result = await child;
  clearTimeout(timer);
  if (result.failed || result.exitCode !== 0) return null;
  const text = `${result.stdout}`.trim() || `${result.stderr}`.trim();
  return text.split("\n")[0]?.slice(0, 200) ?? "";
}
