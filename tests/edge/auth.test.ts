/**
 * Integration: Bearer authentication on the public API, 404 for tasks that do not exist, and
 * the request id on every response, errors included.
 */
import { describe, expect, it } from "vitest";
import { apiFetch, createTask, expectError, uniquePool } from "./api-client.js";
import { TEST_ADMIN_KEY } from "./credentials.js";

const UNKNOWN_TASK = "tsk_0000000000aaaaaaaaaaaaaaaa";

describe("auth", () => {
  it("refuses a request without a bearer key with 401 and WWW-Authenticate", async () => {
    const res = await apiFetch("/api/v1/tasks", { json: {}, key: null });
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    await expectError(res, 401, "unauthorized");
  });

  it.each([
    ["a wrong key", `Bearer ${TEST_ADMIN_KEY}x`],
    ["a prefix of the key", `Bearer ${TEST_ADMIN_KEY.slice(0, 10)}`],
    ["the key with another scheme", `Basic ${TEST_ADMIN_KEY}`],
    ["the key without a scheme", TEST_ADMIN_KEY],
    ["an empty bearer", "Bearer "],
  ])("refuses %s with 401", async (_name, authorization) => {
    const res = await apiFetch(`/api/v1/tasks/${UNKNOWN_TASK}`, { headers: { authorization } });
    await expectError(res, 401, "unauthorized");
  });

  it("checks the key before revealing whether a task exists", async () => {
    const task = await createTask({ pool: uniquePool() });
    const known = await apiFetch(`/api/v1/tasks/${task.id}`, { key: "wrong-key-0123456789" });
    const unknown = await apiFetch(`/api/v1/tasks/${UNKNOWN_TASK}`, { key: "wrong-key-0123456789" });
    const a = await expectError(known, 401, "unauthorized");
    const b = await expectError(unknown, 401, "unauthorized");
    expect(a.error.message).toBe(b.error.message);
  });

  it("answers 404 for a task that does not exist, well-formed id or not", async () => {
    await expectError(await apiFetch(`/api/v1/tasks/${UNKNOWN_TASK}`), 404, "not_found");
    await expectError(await apiFetch("/api/v1/tasks/not-a-task-id"), 404, "not_found");
    await expectError(await apiFetch(`/api/v1/tasks/${UNKNOWN_TASK}/events`), 404, "not_found");
    await expectError(await apiFetch("/api/v1/nothing-here"), 404, "not_found");
  });

  it("echoes the caller's request id, on success and on errors", async () => {
    const ok = await apiFetch("/api/v1/tasks", { json: { prompt: "x" }, headers: { "x-request-id": "client-req-42" } });
    expect(ok.headers.get("x-request-id")).toBe("client-req-42");
    expect((await expectError(ok, 400, "validation_failed")).error.request_id).toBe("client-req-42");

    const unauth = await apiFetch("/api/v1/tasks", { key: null, headers: { "x-request-id": "client-req-43" } });
    expect((await expectError(unauth, 401, "unauthorized")).error.request_id).toBe("client-req-43");

    const task = await createTask({ pool: uniquePool() });
    const read = await apiFetch(`/api/v1/tasks/${task.id}`, { headers: { "x-request-id": "client-req-44" } });
    expect(read.status).toBe(200);
    expect(read.headers.get("x-request-id")).toBe("client-req-44");
  });

  it("makes up a request id when the caller sends none, or one that is unsafe", async () => {
    const a = await apiFetch(`/api/v1/tasks/${UNKNOWN_TASK}`);
    const b = await apiFetch(`/api/v1/tasks/${UNKNOWN_TASK}`, { headers: { "x-request-id": "bad id <script>" } });
    const idA = (await expectError(a, 404, "not_found")).error.request_id;
    const idB = (await expectError(b, 404, "not_found")).error.request_id;
    expect(idA).toMatch(/^[\w-]{8,}$/);
    expect(idB).toMatch(/^[\w-]{8,}$/);
    expect(idB).not.toContain("script");
    expect(idA).not.toBe(idB);
  });

  it("serves health without a key, with the secure headers", async () => {
    const res = await apiFetch("/health", { key: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect((await apiFetch("/ready", { key: null })).status).toBe(200);
  });
});
