/**
 * Where the browser tests find Chromium: `CHROMIUM_PATH` when set, else Debian's `chromium` on
 * the PATH (`npm test` and `.ci/run` install it where absent, scripts/ensure-system-tools.sh).
 * @module
 */
import { execFileSync } from "node:child_process";

/** The Chromium executable to drive with playwright-core; throws naming what to install. */
export function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync("sh", ["-c", "command -v chromium || command -v chromium-browser"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("the browser tests need Chromium: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH");
  }
}
