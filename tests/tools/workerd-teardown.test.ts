// The edge suites' tolerance of workerd's crash at teardown (tests/support/workerd-teardown.ts):
// it drops exactly the pool's "worker exited" error, and a run whose worker died mid-file still
// names the tests that never reported.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { startVitest } from "vitest/node";
import { isWorkerdExit, tolerateWorkerdExit, unreportedTests } from "../support/workerd-teardown.js";

const poolError = (cause: unknown) => new Error("[vitest-pool]: Worker cloudflare-pool emitted error.", { cause });

describe("tolerateWorkerdExit", () => {
  it("drops the pool's report of a workerd runtime that exited on its own", () => {
    expect(isWorkerdExit(poolError(new Error("Worker exited unexpectedly")))).toBe(true);
    expect(tolerateWorkerdExit(poolError(new Error("Worker exited unexpectedly")))).toBe(false);
  });

  it("keeps every other error", () => {
    const others = [
      poolError(new Error("Failed to run tests")),
      poolError(undefined),
      new Error("[vitest-pool]: Worker forks emitted error.", { cause: new Error("Worker exited unexpectedly") }),
      new Error("Worker exited unexpectedly"),
      "Worker exited unexpectedly",
      new TypeError("x is not a function"),
    ];
    for (const error of others) expect(tolerateWorkerdExit(error)).toBeUndefined();
  });
});

describe("unreportedTests", () => {
  it("names the tests a worker that died mid-file never ran", async () => {
    const root = fileURLToPath(new URL("./fixtures/worker-exit/", import.meta.url));
    const vitest = await startVitest("test", [], {
      root,
      include: ["dies.fixture.ts"],
      pool: "forks",
      watch: false,
      reporters: [],
      onUnhandledError: () => false,
    });
    try {
      const modules = vitest.state.getTestModules();
      expect(modules).toHaveLength(1);
      const missing = unreportedTests(modules);
      // Results travel in batches, so the test before the kill may not have reported either.
      expect(missing).toEqual(expect.arrayContaining([expect.stringMatching(/kills its own worker$/), expect.stringMatching(/never runs$/)]));
    } finally {
      await vitest.close();
      process.exitCode = undefined;
    }
  });
});
