/**
 * Memory under a hostile body, against the real edge under `wrangler dev`: 200 MB streamed
 * chunked (no Content-Length) to the runner API and to the public API is answered 413, and the
 * workerd processes the edge runs in do not grow by more than `MAX_GROWTH_BYTES` meanwhile:
 * the edge stops reading at the limit instead of holding the body.
 *
 * Bounded: the sender stops as soon as the answer arrives, and at `OFFER_BYTES` whatever happens.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorBody } from "#api/errors.js";
import { newSecret } from "#api/ids.js";
import { freePort, startEdge, type ManagedProcess } from "../../scripts/local-stack.js";

const OFFER_BYTES = 200 * 1_048_576;
const CHUNK = Buffer.alloc(64 * 1024, 0x20);
const MAX_GROWTH_BYTES = 64 * 1_048_576;
/** Past the largest limit (3 MiB), the sender waits up to `PAUSE_MS` for the answer once. */
const PAUSE_AT_BYTES = 4 * 1_048_576;
const PAUSE_MS = 2_000;
/** Tries per route, for when a reset overtakes the answer (see `streamHostileBody`). */
const ATTEMPTS = 8;
/**
 * An attempt that has neither an answer nor a reset by then is abandoned and tried again: on a
 * loaded machine the dev proxy's race (below) can also leave a request hanging. Memory and bytes
 * sent are still checked for it.
 */
const ATTEMPT_STALL_MS = 8_000;

/** Processes below `root` in the process tree (its children, theirs, …). */
function descendants(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name sits in parentheses and may hold spaces: the ppid follows the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** The workerd processes the started `wrangler dev` runs (found in its process tree). */
function workerdPids(wranglerPid: number): number[] {
  return descendants(wranglerPid).filter((pid) => {
    try {
      return basename(readlinkSync(`/proc/${pid}/exe`)).startsWith("workerd");
    } catch {
      return false;
    }
  });
}

/** Resident memory of `pids` together, in bytes. */
function rssBytes(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    if (!existsSync(`/proc/${pid}/status`)) throw new Error(`workerd (pid ${pid}) is gone: the edge crashed`);
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    total += Number(match?.[1] ?? 0) * 1024;
  }
  return total;
}

/**
 * POSTs up to `OFFER_BYTES` chunked to `url`, stopping once the answer arrives; resolves with
 * the answer (status 0 when the connection was reset first), how many bytes were written, and
 * the peak RSS of `pids` seen meanwhile.
 */
function streamHostileBody(
  url: string,
  headers: Record<string, string>,
  pids: number[],
): Promise<{ status: number; body: string; sent: number; peakRss: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    let peakRss = rssBytes(pids);
    const sampler = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, rssBytes(pids));
      } catch (error) {
        clearInterval(sampler);
        clearTimeout(stall);
        req.destroy();
        reject(error);
      }
    }, 10);
    const req = request(url, { method: "POST", agent: false, headers: { "content-type": "application/json", ...headers } });
    let finished = false;
    const stall = setTimeout(() => finish({ status: 0, body: "" }), ATTEMPT_STALL_MS);
    const finish = (result: { status: number; body: string }) => {
      if (finished) return;
      finished = true;
      clearTimeout(stall);
      clearInterval(sampler);
      peakRss = Math.max(peakRss, rssBytes(pids));
      req.destroy();
      resolve({ ...result, sent, peakRss });
    };
    req.on("response", (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => finish({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (answered) return;
      // The edge closes the connection after an early answer; the reset that brings can reach
      // us before the answer does (HTTP/1.1 has no way round it), so the caller tries again.
      if (error.code === "ECONNRESET" || error.code === "EPIPE") return finish({ status: 0, body: "" });
      clearInterval(sampler);
      clearTimeout(stall);
      reject(error);
    });
    let paused = false;
    const write = () => {
      while (!answered && sent < OFFER_BYTES) {
        if (sent >= PAUSE_AT_BYTES && !paused) {
          // Past every limit: wait for the answer a moment before offering more. An edge that
          // closes the connection after its 413 would otherwise race our writes into a reset
          // that can swallow the answer before we read it.
          paused = true;
          return void setTimeout(write, PAUSE_MS);
        }
        sent += CHUNK.byteLength;
        if (!req.write(CHUNK)) return void req.once("drain", write);
      }
      if (!answered) req.end();
    };
    write();
  });
}

/**
 * `wrangler dev` puts a proxy worker of its own in front of ours; when our worker answers early
 * and cancels the body it is still piping, the proxy may answer a plain-text 503 ("Your worker
 * restarted mid-request") instead of passing our answer on. That is the dev proxy's race, not
 * the edge's answer: such an attempt is tried again like a reset.
 */
function fromDevProxy(result: { status: number; body: string }): boolean {
  return result.status === 503 && !result.body.trimStart().startsWith("{");
}

describe("hostile bodies against wrangler dev", () => {
  let stateDir: string;
  let edge: ManagedProcess & { url: string };
  let pids: number[];
  const adminKey = newSecret("cf_admin");

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "codeforge-e2e-"));
    edge = await startEdge({
      port: await freePort(),
      stateDir,
      vars: { CODEFORGE_ADMIN_KEY: adminKey, RUNNER_SECRETS: newSecret("cf_runner"), CODEFORGE_LOCAL_MODE: "true" },
    });
    pids = workerdPids(edge.child.pid!);
    expect(pids.length).toBeGreaterThan(0);
    // Warm up the routes, so what they load on first use is not counted as growth.
    for (const path of ["/runner/v1/lease", "/api/v1/tasks"]) {
      await fetch(edge.url + path, { method: "POST", headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body: "{}" });
    }
  }, 90_000);

  afterAll(async () => {
    await edge?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it.each([
    ["/runner/v1/lease", {}],
    ["/api/v1/tasks", { authorization: `Bearer ${adminKey}` }],
  ])(
    "200 MB chunked to %s: 413, and workerd grows by less than 64 MB",
    async (path, headers) => {
      const before = rssBytes(pids);
      let answer: { status: number; body: string } | undefined;
      for (let attempt = 1; attempt <= ATTEMPTS && !answer; attempt++) {
        const result = await streamHostileBody(edge.url + path, headers, pids);
        const growth = result.peakRss - before;
        console.log(
          `${path}: ${result.status === 0 ? "connection reset or stalled" : fromDevProxy(result) ? "503 from the dev proxy" : result.status} after ${(result.sent / 1_048_576).toFixed(1)} MB sent; workerd RSS ${(before / 1_048_576).toFixed(0)} MB -> peak ${(result.peakRss / 1_048_576).toFixed(0)} MB`,
        );
        expect(growth).toBeLessThan(MAX_GROWTH_BYTES);
        expect(result.sent).toBeLessThan(OFFER_BYTES);
        if (result.status !== 0 && !fromDevProxy(result)) answer = result;
      }
      expect(answer, `every attempt was reset, stalled or lost by the dev proxy before its answer arrived`).toBeDefined();
      expect(answer!.status, answer!.body).toBe(413);
      expect(ErrorBody.parse(JSON.parse(answer!.body)).error.code).toBe("payload_too_large");
    },
    90_000,
  );
});
