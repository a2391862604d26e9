/**
 * The public API as a client sees it, called through the real Worker (`SELF.fetch`) with the
 * test admin key. Each helper returns what the client would read; none looks inside objects.
 * @module
 */
import { SELF, env } from "cloudflare:test";
import { expect } from "vitest";
import { ErrorBody } from "#api/errors.js";
import { EventsPage, type StreamEvent } from "#api/stream-events.js";
import { Task } from "#api/task.js";
import type { CreateTaskInput } from "#api/task-request.js";
import { TEST_ADMIN_KEY } from "./credentials.js";

export const ORIGIN = "https://codeforge.test";

/** A pool no other test uses, so dispatcher queues never leak between tests. */
export function uniquePool(): string {
  return `pool-${crypto.randomUUID().slice(0, 8)}`;
}

/** A valid task request (file:// repo, demo CLI) with `overrides` on top. */
export function taskSpec(overrides: Partial<CreateTaskInput> = {}): CreateTaskInput {
  return {
    repo: { url: "file:///srv/repos/demo.git", ref: "main" },
    prompt: "Add a README",
    cli: "demo",
    ...overrides,
  };
}

/** A request to the public API with `Authorization: Bearer <admin key>` unless `key` says otherwise. */
export function apiFetch(
  path: string,
  init: { method?: string; json?: unknown; body?: string; headers?: Record<string, string>; key?: string | null } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  const key = init.key === undefined ? TEST_ADMIN_KEY : init.key;
  if (key !== null && !headers.has("authorization")) headers.set("authorization", `Bearer ${key}`);
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  return SELF.fetch(`${ORIGIN}${path}`, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body });
}

/** Creates a task and returns it, failing the test unless the edge answered 201. */
export async function createTask(overrides: Partial<CreateTaskInput> = {}, headers: Record<string, string> = {}): Promise<Task> {
  const res = await apiFetch("/api/v1/tasks", { json: taskSpec(overrides), headers });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return Task.parse(body);
}

export async function getTask(id: string): Promise<Task> {
  const res = await apiFetch(`/api/v1/tasks/${id}`);
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return Task.parse(body);
}

export async function cancelTask(id: string): Promise<{ status: number; task: Task }> {
  const res = await apiFetch(`/api/v1/tasks/${id}/cancel`, { method: "POST" });
  const body = await res.json();
  expect([200, 202], JSON.stringify(body)).toContain(res.status);
  return { status: res.status, task: Task.parse(body) };
}

export async function eventsPage(id: string, query: { since?: number; limit?: number } = {}): Promise<EventsPage> {
  const params = new URLSearchParams();
  if (query.since !== undefined) params.set("since", String(query.since));
  if (query.limit !== undefined) params.set("limit", String(query.limit));
  const res = await apiFetch(`/api/v1/tasks/${id}/events?${params}`);
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return EventsPage.parse(body);
}

/** Every event of a task's log, following `next_since` page by page. */
export async function allEvents(id: string): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  let since = 0;
  for (;;) {
    const page = await eventsPage(id, { since, limit: 1_000 });
    events.push(...page.events);
    if (!page.has_more) return events;
    since = page.next_since;
  }
}

/** The statuses a task went through, in order, from its log. */
export async function statusHistory(id: string): Promise<string[]> {
  return (await allEvents(id)).flatMap((e) => (e.type === "status" ? [e.status] : []));
}

/**
 * Asserts `res` is the JSON error envelope with `status` and `code` (and `field`, when given),
 * carrying the response's request id. Returns the envelope.
 */
export async function expectError(res: Response, status: number, code: string, field?: string): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = ErrorBody.parse(JSON.parse(text));
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.request_id).toBe(res.headers.get("x-request-id"));
  if (field !== undefined) expect(body.error.field).toBe(field);
  return body;
}

/**
 * What every answer owes a client, whatever it sent: no 5xx, and an error only as the JSON
 * envelope carrying the response's request id. Returns the envelope, or null for a success.
 */
export function expectSafeAnswer(res: Response, text: string, context: string): ErrorBody | null {
  expect(res.status, context).toBeLessThan(500);
  if (res.status < 400) return null;
  expect(res.headers.get("content-type"), context).toMatch(/^application\/json/);
  const envelope = ErrorBody.safeParse(JSON.parse(text));
  expect(envelope.success, context).toBe(true);
  expect(envelope.data!.error.request_id, context).toBe(res.headers.get("x-request-id"));
  return envelope.data!;
}

/** The dispatcher of `pool`, to read its queue depth and waiting runners. */
export function dispatcherOf(pool: string) {
  return env.DISPATCHERS.get(env.DISPATCHERS.idFromName(pool));
}

/** The task's Durable Object stub, for `runDurableObjectAlarm` and `runInDurableObject`. */
export function taskObjectOf(id: string) {
  return env.TASKS.get(env.TASKS.idFromName(id));
}
