/**
 * Integration: Server-Sent Events watchers count in the same per-task cap as WebSocket
 * watchers (`STREAM_MAX_WATCHERS_PER_TASK`, 2 in this project), and one that hangs up frees its
 * place. Run here for the low cap; each watcher comes from its own address, so the per-address
 * stream limit never refuses one.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { apiFetch, expectError, taskSpec, uniquePool } from "../edge/api-client.js";
import { openSse, requestSse } from "../edge/sse-watcher.js";
import { UPSTASH_TEST_LIMITS as LIMITS } from "./limits.js";
import { adminRedis as redis } from "./redis-admin.js";

const fromIp = (ip: string, headers: Record<string, string> = {}) => ({ "cf-connecting-ip": ip, ...headers });

beforeEach(async () => {
  await redis().flushdb();
});

describe("SSE watchers and the per-task cap", () => {
  it("counts SSE and WebSocket watchers together, and takes a new one when an SSE watcher leaves", async () => {
    expect(Number(LIMITS.STREAM_MAX_WATCHERS_PER_TASK)).toBe(2);
    const created = await apiFetch("/api/v1/tasks", { json: taskSpec({ pool: uniquePool() }), headers: fromIp("198.51.100.1") });
    const { id } = (await created.json()) as { id: string };

    const socketRes = await apiFetch(`/api/v1/tasks/${id}/stream`, { headers: fromIp("198.51.100.2", { upgrade: "websocket" }) });
    expect(socketRes.status).toBe(101);
    socketRes.webSocket!.accept();
    const sse = await openSse(id, { headers: fromIp("198.51.100.3") });
    await sse.waitForSeq(1);

    // Full: a third watcher of either kind is refused.
    const fullSse = await requestSse(id, { headers: fromIp("198.51.100.4") });
    expect(fullSse.headers.get("retry-after")).toBe("5");
    await expectError(fullSse, 503, "unavailable");
    await expectError(await apiFetch(`/api/v1/tasks/${id}/stream`, { headers: fromIp("198.51.100.5", { upgrade: "websocket" }) }), 503, "unavailable");

    // The SSE client hangs up: its place is given to the next.
    await sse.cancel();
    let again: Response | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      again = await requestSse(id, { headers: fromIp(`198.51.100.${10 + attempt}`) });
      if (again.status === 200) break;
      await again.body?.cancel();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(again!.status).toBe(200);
    await again!.body!.cancel();
    socketRes.webSocket!.close(1000, "done");
  });
});
