// Unit and integration: the disk-quota watcher over real files in a temp directory (hard links
// counted once, symlinks never followed, overlapping directories counted once, the event loop
// kept free during a walk), and its schedule under fake timers (fires once, stops, never
// overlaps two walks).
import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { diskUsageTotalBytes } from "../../runner/src/workspace/disk-usage.js";
import { watchDiskQuota } from "../../runner/src/sandbox/disk-quota.js";

const MB = 1_000_000;
let scratch: string;
const watchers: { stop(): void }[] = [];

beforeEach(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), "codeforge-quota-"));
});
afterEach(() => {
  for (const watcher of watchers.splice(0)) watcher.stop();
  vi.useRealTimers();
  rmSync(scratch, { recursive: true, force: true });
});

function dir(...parts: string[]): string {
  const full = path.join(scratch, ...parts);
  mkdirSync(full, { recursive: true });
  return full;
}

/** Random bytes, so no file system can store them compressed or deduplicated. */
function writeBytes(file: string, bytes: number): void {
  writeFileSync(file, randomBytes(bytes));
}

describe("measuring an attempt's directories", () => {
  it("counts a hard-linked file once, also when its links lie in two of the directories", async () => {
    const a = dir("a");
    const b = dir("b");
    writeBytes(path.join(a, "data.bin"), MB);
    const before = await diskUsageTotalBytes([a, b]);
    linkSync(path.join(a, "data.bin"), path.join(a, "again.bin"));
    linkSync(path.join(a, "data.bin"), path.join(b, "elsewhere.bin"));
    expect(before).toBeGreaterThanOrEqual(MB);
    expect(await diskUsageTotalBytes([a, b])).toBe(before);
  });

  it("does not follow symlinks, to files or directories, nor loop on a link to itself", async () => {
    const workspace = dir("workspace");
    const outside = dir("outside");
    writeBytes(path.join(outside, "big.bin"), 2 * MB);
    const alone = await diskUsageTotalBytes([workspace]);
    symlinkSync(path.join(outside, "big.bin"), path.join(workspace, "link-to-file"));
    symlinkSync(outside, path.join(workspace, "link-to-dir"));
    symlinkSync(".", path.join(workspace, "link-to-self"));
    symlinkSync("/", path.join(workspace, "link-to-root"));
    const withLinks = await diskUsageTotalBytes([workspace]);
    // The links themselves take at most a block each; the 2 MB behind them is not counted.
    expect(withLinks - alone).toBeLessThan(64 * 1024);
  });

  it("counts a directory that is also inside another of the directories once", async () => {
    const workspace = dir("workspace");
    const nested = dir("workspace", "nested");
    writeBytes(path.join(nested, "data.bin"), MB);
    expect(await diskUsageTotalBytes([workspace, nested])).toBe(await diskUsageTotalBytes([workspace]));
  });

  it("is 0 for directories that do not exist (yet, or any more)", async () => {
    expect(await diskUsageTotalBytes([path.join(scratch, "missing")])).toBe(0);
  });

  it("keeps the event loop free while it walks", async () => {
    for (let d = 0; d < 20; d++) {
      const sub = dir("tree", `d${d}`);
      for (let f = 0; f < 25; f++) writeFileSync(path.join(sub, `f${f}`), "x");
    }
    let timerFired = false;
    let firedBeforeWalkEnded = false;
    setTimeout(() => (timerFired = true), 0);
    await diskUsageTotalBytes([path.join(scratch, "tree")]).then(() => (firedBeforeWalkEnded = timerFired));
    expect(firedBeforeWalkEnded).toBe(true);
  });
});

describe("watching the quota over real files", () => {
  it("calls onExceeded once, with the total, when the directories grow past the quota", async () => {
    const workspace = dir("workspace");
    writeBytes(path.join(workspace, "small.bin"), 100_000);
    const measured: number[] = [];
    const exceeded: number[] = [];
    let fired!: () => void;
    const firedOnce = new Promise<void>((resolve) => (fired = resolve));
    watchers.push(
      watchDiskQuota({
        dirs: [workspace],
        maxBytes: MB,
        intervalMs: 10,
        measure: async (dirs) => {
          const bytes = await diskUsageTotalBytes(dirs);
          measured.push(bytes);
          return bytes;
        },
        onExceeded: (used) => {
          exceeded.push(used);
          fired();
        },
      }),
    );

    await vi.waitFor(() => expect(measured.length).toBeGreaterThanOrEqual(2), { timeout: 5_000, interval: 10 });
    expect(exceeded).toEqual([]);

    writeBytes(path.join(workspace, "big.bin"), 2 * MB);
    await firedOnce;
    const measurementsAtFiring = measured.length;
    // Several more intervals: no second call, no further walks.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(exceeded).toEqual([measured.at(-1)]);
    expect(exceeded[0]).toBeGreaterThan(2 * MB);
    expect(measured.length).toBe(measurementsAtFiring);
  });
});

describe("the watcher's schedule (fake timers)", () => {
  beforeEach(() => vi.useFakeTimers());

  it("measures at once and then every interval, until stop()", async () => {
    const measure = vi.fn(async () => 10);
    const watcher = watchDiskQuota({ dirs: ["/ws"], maxBytes: 100, intervalMs: 1_000, measure, onExceeded: () => {} });
    watchers.push(watcher);
    await vi.advanceTimersByTimeAsync(0);
    expect(measure).toHaveBeenCalledTimes(1);
    expect(measure).toHaveBeenLastCalledWith(["/ws"]);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(measure).toHaveBeenCalledTimes(4);
    watcher.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(measure).toHaveBeenCalledTimes(4);
  });

  it("fires once when usage passes the quota, even though it stays above", async () => {
    const sizes = [50, 100, 150, 200, 250];
    const measure = vi.fn(async () => sizes.shift() ?? 300);
    const onExceeded = vi.fn();
    watchers.push(watchDiskQuota({ dirs: ["/ws"], maxBytes: 100, intervalMs: 1_000, measure, onExceeded }));
    await vi.advanceTimersByTimeAsync(10_000);
    // 100 is at the quota, not past it: the call comes with 150.
    expect(onExceeded.mock.calls).toEqual([[150]]);
    expect(measure).toHaveBeenCalledTimes(3);
  });

  it("never starts a walk while the previous one is still running", async () => {
    let finish!: (bytes: number) => void;
    const measure = vi.fn(() => new Promise<number>((resolve) => (finish = resolve)));
    watchers.push(watchDiskQuota({ dirs: ["/ws"], maxBytes: 100, intervalMs: 1_000, measure, onExceeded: () => {} }));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(measure).toHaveBeenCalledTimes(1);
    finish(10);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(measure).toHaveBeenCalledTimes(2);
  });

  it("reports a failed measurement and keeps watching", async () => {
    const measure = vi.fn<(dirs: readonly string[]) => Promise<number>>().mockRejectedValueOnce(new Error("EIO")).mockResolvedValue(500);
    const onError = vi.fn();
    const onExceeded = vi.fn();
    watchers.push(watchDiskQuota({ dirs: ["/ws"], maxBytes: 100, intervalMs: 1_000, measure, onExceeded, onError }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(onError).toHaveBeenCalledWith(new Error("EIO"));
    expect(onExceeded.mock.calls).toEqual([[500]]);
  });

  it("ignores a walk that finishes after stop()", async () => {
    let finish!: (bytes: number) => void;
    const onExceeded = vi.fn();
    const watcher = watchDiskQuota({
      dirs: ["/ws"],
      maxBytes: 100,
      measure: () => new Promise<number>((resolve) => (finish = resolve)),
      onExceeded,
    });
    await vi.advanceTimersByTimeAsync(0);
    watcher.stop();
    finish(1_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(onExceeded).not.toHaveBeenCalled();
  });
});
