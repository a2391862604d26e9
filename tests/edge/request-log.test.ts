/**
 * Integration: the edge's request lines, read from what the real app writes to the console —
 * one JSON line per API request with its route pattern, status, request id, task id and trace
 * id; probe and runner-API lines sampled away at `LOG_SAMPLE_RATIO=0`; `LOG_LEVEL=warn` drops
 * them; no secret from the request in any line.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../edge/src/app.js";
import type { Env } from "../../edge/src/env.js";
import { ORIGIN } from "./api-client.js";
import { TEST_ADMIN_KEY } from "./credentials.js";

afterEach(() => vi.restoreAllMocks());

function captureConsole(): string[] {
  const lines: string[] = [];
  for (const method of ["log", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
  }
  return lines;
}

function appWith(vars: Partial<Record<keyof Env, string>>) {
  const app = createApp();
  const bindings = { ...env, ...vars } as Env;
  return (path: string, init: RequestInit = {}) => app.request(`${ORIGIN}${path}`, init, bindings);
}

const requestLines = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "request");

describe("request log lines", () => {
  it("writes one line per API request with the route pattern and the request, task and trace ids", async () => {
    const lines = captureConsole();
    const call = appWith({ LOG_SAMPLE_RATIO: "0" });
    const taskId = "tsk_0000000000aaaaaaaaaaaaaaaa";
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await call(`/api/v1/tasks/${taskId}`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(404);
    for (let i = 0; i < 5; i++) expect((await call("/health")).status).toBe(200);
    const request = requestLines(lines);
    expect(request).toEqual([
      expect.objectContaining({
        level: "info",
        msg: "request",
        request_id: res.headers.get("x-request-id"),
        task_id: taskId,
        trace_id: traceId,
        method: "GET",
        path: "/api/v1/tasks/:id",
        status: 404,
      }),
    ]);
    expect(Object.keys(request[0]!).slice(0, 6)).toEqual(["level", "time", "msg", "request_id", "task_id", "trace_id"]);
    expect(lines.join("\n")).not.toContain(TEST_ADMIN_KEY);
  });

  it("writes every probe line at ratio 1, and none below the configured level", async () => {
    const lines = captureConsole();
    for (let i = 0; i < 3; i++) await appWith({ LOG_SAMPLE_RATIO: "1" })("/health");
    expect(requestLines(lines).filter((l) => l.path === "/health")).toHaveLength(3);
    lines.length = 0;
    await appWith({ LOG_LEVEL: "warn" })(`/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    expect(requestLines(lines)).toEqual([]);
  });
});
