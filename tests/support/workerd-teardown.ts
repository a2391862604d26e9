// workerd sometimes dies with a segmentation fault while the Workers pool tears a test file's
// runtime down, after every test in the file has reported (cloudflare/workerd#6763, open
// upstream). Vitest then records "[vitest-pool]: Worker cloudflare-pool emitted error" caused by
// "Worker exited unexpectedly" and fails a run in which every test passed.
//
// The edge suites tolerate exactly that error and nothing else, and only because
// `EveryTestReported` makes the run fail if any test never reported a result: a runtime that dies
// in the middle of a file still fails the run, and says which tests it took with it.
import type { Reporter, TestModule } from "vitest/node";

const POOL_ERROR = "[vitest-pool]: Worker cloudflare-pool emitted error.";
const EXIT_CAUSE = "Worker exited unexpectedly";

let tolerated = 0;

/** True for the pool's report of a workerd runtime that exited on its own. */
export function isWorkerdExit(error: unknown): boolean {
  if (!(error instanceof Error) || error.message !== POOL_ERROR) return false;
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message === EXIT_CAUSE;
}

/** `test.onUnhandledError`: drop (return false) a workerd exit, keep every other error. */
export function tolerateWorkerdExit(error: unknown): boolean | undefined {
  if (!isWorkerdExit(error)) return undefined;
  tolerated += 1;
  return false;
}

/** The names of tests that never reported a result (neither passed, failed nor skipped). */
export function unreportedTests(modules: ReadonlyArray<TestModule>): string[] {
  const missing: string[] = [];
  for (const module of modules) {
    for (const test of module.children.allTests()) {
      if (test.result().state === "pending") missing.push(`${module.moduleId} > ${test.fullName}`);
    }
  }
  return missing;
}

/** Fails the run when a test never reported; notes each tolerated workerd exit. */
export class EveryTestReported implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const missing = unreportedTests(modules);
    if (missing.length > 0) {
      process.exitCode = 1;
      process.stderr.write(`${missing.length} test(s) never reported a result:\n  ${missing.join("\n  ")}\n`);
    }
    if (tolerated > 0) {
      process.stderr.write(`workerd exited on its own ${tolerated} time(s) after its file's tests had reported; tolerated (cloudflare/workerd#6763)\n`);
    }
  }
}
