/**
 * Integration: every way a task request can be wrong is a 4xx JSON envelope that names the
 * failing field, never a 5xx, and creates no task.
 */
import { SELF, env, listDurableObjectIds } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { API_BODY_MAX_BYTES, PROMPT_MAX_CHARS } from "#api/limits.js";
import { ORIGIN, apiFetch, dispatcherOf, expectError, taskSpec } from "./api-client.js";
import { TEST_ADMIN_KEY } from "./credentials.js";

const POOL = "bad-input";
const valid = () => taskSpec({ pool: POOL });

/** Asserts the request is refused as described and that no task object came into being. */
async function expectRefused(request: () => Promise<Response>, expected: { status: number; code: string; field?: string; message?: RegExp }): Promise<void> {
  const before = (await listDurableObjectIds(env.TASKS)).length;
  const body = await expectError(await request(), expected.status, expected.code, expected.field);
  if (expected.message) expect(body.error.message).toMatch(expected.message);
  expect((await listDurableObjectIds(env.TASKS)).length).toBe(before);
  expect((await dispatcherOf(POOL).stats()).queued).toBe(0);
}

const post =
  (json: unknown, headers: Record<string, string> = {}) =>
  () =>
    apiFetch("/api/v1/tasks", { json, headers });

describe("bad input", () => {
  it("accepts the valid request these cases are built from", async () => {
    const res = await apiFetch("/api/v1/tasks", { json: taskSpec({ pool: "bad-input-control" }) });
    expect(res.status).toBe(201);
  });

  it.each([
    ["missing repo", { prompt: "x", cli: "demo" }, "repo"],
    ["missing repo.url", { ...valid(), repo: {} }, "repo.url"],
    ["missing prompt", { repo: valid().repo, cli: "demo" }, "prompt"],
    ["missing cli", { repo: valid().repo, prompt: "x" }, "cli"],
    ["empty prompt", { ...valid(), prompt: "" }, "prompt"],
    ["prompt of the wrong type", { ...valid(), prompt: 42 }, "prompt"],
    ["repo of the wrong type", { ...valid(), repo: "file:///srv/repos/demo.git" }, "repo"],
    ["priority as a string", { ...valid(), priority: "high" }, "priority"],
    ["priority out of range", { ...valid(), priority: 10 }, "priority"],
    ["fractional timeout", { ...valid(), timeout_seconds: 60.5 }, "timeout_seconds"],
    ["timeout too short", { ...valid(), timeout_seconds: 1 }, "timeout_seconds"],
    ["max_attempts zero", { ...valid(), max_attempts: 0 }, "max_attempts"],
    ["unknown CLI", { ...valid(), cli: "bash" }, "cli"],
    ["labels not a list", { ...valid(), labels: "gpu" }, "labels"],
    ["bad label", { ...valid(), labels: ["GPU!"] }, "labels.0"],
    ["bad pool", { ...valid(), pool: "../other" }, "pool"],
    ["model with shell characters", { ...valid(), model: "gpt; rm -rf /" }, "model"],
    ["metadata value not a string", { ...valid(), metadata: { n: 1 } }, "metadata.n"],
    ["unknown top-level field", { ...valid(), access_tokn: "ghp_x" }, "access_tokn"],
    ["unknown field in repo", { ...valid(), repo: { ...valid().repo, branch: "main" } }, "repo.branch"],
    ["ref that is an option", { ...valid(), repo: { url: valid().repo.url, ref: "--force" } }, "repo.ref"],
    ["ref with '..'", { ...valid(), repo: { url: valid().repo.url, ref: "main..x" } }, "repo.ref"],
    ["ref with a space", { ...valid(), repo: { url: valid().repo.url, ref: "a b" } }, "repo.ref"],
    ["unknown autonomy", { ...valid(), autonomy: "yolo" }, "autonomy"],
    ["egress_allow not a list", { ...valid(), egress_allow: "api.example.com" }, "egress_allow"],
    ["egress pattern that is a URL", { ...valid(), egress_allow: ["http://x"] }, "egress_allow.0"],
    ["egress pattern that is an IP address", { ...valid(), egress_allow: ["10.0.0.1"] }, "egress_allow.0"],
    ["egress pattern that is a bare wildcard", { ...valid(), egress_allow: ["*"] }, "egress_allow.0"],
    ["body that is an array", [valid()], undefined],
    ["body that is null", null, undefined],
  ])("refuses %s with 400 validation_failed", async (_name, json, field) => {
    await expectRefused(post(json), { status: 400, code: "validation_failed", field });
  });

  it.each([
    ["a top-level typo", { ...valid(), promt: "x" }, "promt", 'unknown field "promt"; did you mean "prompt"?'],
    [
      "a typo of an optional field",
      { ...valid(), calback_url: "https://hooks.example.com/x" },
      "calback_url",
      'unknown field "calback_url"; did you mean "callback_url"?',
    ],
    ["a typo in repo", { ...valid(), repo: { ...valid().repo, urll: "x" } }, "repo.urll", 'unknown field "repo.urll"; did you mean "repo.url"?'],
    ["a name near no known one", { ...valid(), surprise: 1 }, "surprise", 'unknown field "surprise"'],
    ["a name of Object's prototype", { ...valid(), repo: { ...valid().repo, constructor: 1 } }, "repo.constructor", 'unknown field "repo.constructor"'],
    ["two unknown names", { ...valid(), promt: "x", surprise: 1 }, "promt", 'unknown field "promt"; did you mean "prompt"?; unknown field "surprise"'],
  ])("refuses %s naming the field, with a suggestion only when one is near", async (_name, json, field, message) => {
    const body = await expectError(await post(json)(), 400, "validation_failed", field);
    expect(body.error.message).toBe(message);
  });

  it("suggests the query parameter an unknown one is nearest to", async () => {
    const typo = await expectError(await apiFetch("/api/v1/tasks?statu=queued"), 400, "validation_failed", "statu");
    expect(typo.error.message).toBe('unknown query parameter "statu"; did you mean "status"?');
    const far = await expectError(await apiFetch("/api/v1/tasks?colour=red"), 400, "validation_failed", "colour");
    expect(far.error.message).toBe('unknown query parameter "colour"');
  });

  it.each([
    ["an ext:: remote helper", "ext::sh -c x"],
    ["an ext:: remote helper without spaces", "ext::sh%20-c%20x"],
    ["a URL starting with '-'", "--upload-pack=touch /tmp/x"],
    ["credentials in the URL", "https://user:ghp_secret@github.com/o/r.git"],
    ["a username in the URL", "https://token@github.com/o/r.git"],
    ["a plain http URL", "http://github.com/o/r.git"],
    ["a file URL with a host", "file://evil.example/srv/r.git"],
    ["not a URL", "just words"],
    ["a control character", "https://github.com/o/r.git\n"],
  ])("refuses a repository URL with %s, naming repo.url", async (_name, url) => {
    await expectRefused(post({ ...valid(), repo: { url } }), { status: 400, code: "validation_failed", field: "repo.url" });
  });

  it("refuses a prompt one character over the limit", async () => {
    await expectRefused(post({ ...valid(), prompt: "x".repeat(PROMPT_MAX_CHARS + 1) }), { status: 400, code: "validation_failed", field: "prompt" });
  });

  it("refuses malformed JSON with 400 invalid_json", async () => {
    for (const body of ["{", '{"repo":', "not json", ""]) {
      await expectRefused(() => apiFetch("/api/v1/tasks", { body, headers: { "content-type": "application/json" } }), {
        status: 400,
        code: "invalid_json",
      });
    }
  });

  it("refuses a body that is not declared as JSON with 415", async () => {
    const body = JSON.stringify(valid());
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"]) {
      await expectRefused(() => apiFetch("/api/v1/tasks", { body, headers: { "content-type": type } }), { status: 415, code: "unsupported_media_type" });
    }
    await expectRefused(() => apiFetch("/api/v1/tasks", { body }), { status: 415, code: "unsupported_media_type" });
  });

  it("accepts application/json with a charset", async () => {
    const res = await apiFetch("/api/v1/tasks", {
      body: JSON.stringify(taskSpec({ pool: "bad-input-control" })),
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    expect(res.status).toBe(201);
  });

  it("refuses a body over the size limit with 413", async () => {
    const prompt = "x".repeat(API_BODY_MAX_BYTES);
    await expectRefused(post({ ...valid(), prompt }), { status: 413, code: "payload_too_large" });
  });

  it("refuses a streamed body over the size limit with 413, with no Content-Length to trust", async () => {
    const chunk = new TextEncoder().encode(`{"prompt":"${"x".repeat(64 * 1024)}`);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > API_BODY_MAX_BYTES + chunk.byteLength) return controller.close();
        controller.enqueue(chunk);
        sent += chunk.byteLength;
      },
    });
    await expectRefused(
      () =>
        SELF.fetch(`${ORIGIN}/api/v1/tasks`, {
          method: "POST",
          body: stream,
          headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, "content-type": "application/json" },
        }),
      { status: 413, code: "payload_too_large" },
    );
  });

  it.each([
    ["empty", ""],
    ["too long", "k".repeat(256)],
    ["with a space", "my key"],
    ["with a tab", "my\tkey"],
  ])("refuses an Idempotency-Key that is %s, naming the header", async (_name, key) => {
    await expectRefused(post(valid(), { "idempotency-key": key }), { status: 400, code: "bad_request", field: "Idempotency-Key" });
  });
});

describe("methods", () => {
  it.each([
    ["DELETE", "/api/v1/tasks", "GET, POST"],
    ["DELETE", `/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa`, "GET"],
    ["PUT", `/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa/cancel`, "POST"],
    ["POST", `/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa/events`, "GET"],
  ])("answers %s %s with 405 and the methods it has", async (method, path, allow) => {
    const res = await apiFetch(path, { method });
    expect(res.headers.get("allow")).toBe(allow);
    await expectError(res, 405, "method_not_allowed");
  });
});
