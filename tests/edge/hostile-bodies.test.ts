/**
 * Integration: bodies sent to hurt the edge. An oversized body streamed with no Content-Length
 * is refused with 413 on every route that takes a body, and the edge stops pulling it at the
 * limit (the rest of the stream is never read); duplicate JSON keys, bytes that are not UTF-8,
 * a charset other than UTF-8 and an encoded body are each refused with an error that names them.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { API_BODY_MAX_BYTES, CLI_SESSION_BODY_MAX_BYTES, RUNNER_BODY_MAX_BYTES } from "#api/limits.js";
import { signRequest } from "#api/signing.js";
import { duplicateKeyPath } from "../../edge/src/http/duplicate-key.js";
import { ORIGIN, apiFetch, expectError, taskSpec, uniquePool } from "./api-client.js";
import { TEST_ADMIN_KEY, TEST_RUNNER_SECRETS } from "./credentials.js";
import { runnerPost } from "./runner-client.js";

const CHUNK_BYTES = 64 * 1024;
/** 64 MiB on offer: far past every limit, so reading it all would show in the pull count. */
const TOTAL_CHUNKS = 1_024;

/** A body of `TOTAL_CHUNKS` 64 KiB chunks of JSON whitespace that counts how many were pulled. */
function countingBody() {
  const chunk = new Uint8Array(CHUNK_BYTES).fill(0x20);
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === TOTAL_CHUNKS) return controller.close();
      pulled++;
      controller.enqueue(chunk.slice());
    },
  });
  return { stream, pulled: () => pulled };
}

const TASK = "tsk_0000000000aaaaaaaaaaaaaaaa";
const KEY = "key_0000000000000000";

/** Every public route that reads a body. */
const PUBLIC_BODY_ROUTES = [
  "/api/v1/tasks",
  `/api/v1/tasks/${TASK}/instructions`,
  "/api/v1/keys",
  `/api/v1/keys/${KEY}/rotate`,
  "/api/v1/webhook-secret/rotate",
];

/** Every runner route (each reads a body to check its signature), with its limit. */
const RUNNER_BODY_ROUTES: [string, number][] = [
  ["/runner/v1/lease", RUNNER_BODY_MAX_BYTES],
  [`/runner/v1/tasks/${TASK}/heartbeat`, RUNNER_BODY_MAX_BYTES],
  [`/runner/v1/tasks/${TASK}/events`, RUNNER_BODY_MAX_BYTES],
  [`/runner/v1/tasks/${TASK}/session`, CLI_SESSION_BODY_MAX_BYTES],
  [`/runner/v1/tasks/${TASK}/complete`, RUNNER_BODY_MAX_BYTES],
  [`/runner/v1/tasks/${TASK}/release`, RUNNER_BODY_MAX_BYTES],
];

/** Streams 64 MiB to `path` and checks the 413 and that no more than the limit (plus a little buffering) was pulled. */
async function expectStreamRefused(path: string, headers: Record<string, string>, maxBytes: number): Promise<void> {
  const body = countingBody();
  const res = await SELF.fetch(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: body.stream,
    duplex: "half",
  } as RequestInit);
  expect(res.status).toBe(413);
  // Give a reader that kept draining in the background the time to show it.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const limitChunks = Math.ceil(maxBytes / CHUNK_BYTES);
  expect(body.pulled()).toBeGreaterThan(limitChunks);
  expect(body.pulled()).toBeLessThan(limitChunks + 64);
  const error = await expectError(res, 413, "payload_too_large");
  expect(error.error.message).toContain(String(maxBytes));
}

describe("oversized streamed bodies", () => {
  it.each(PUBLIC_BODY_ROUTES)("POST %s: 413 after reading no more than the limit", async (path) => {
    await expectStreamRefused(path, { authorization: `Bearer ${TEST_ADMIN_KEY}` }, API_BODY_MAX_BYTES);
  });

  it.each(RUNNER_BODY_ROUTES)("POST %s: 413 before the signature is checked, after reading no more than the limit", async (path, maxBytes) => {
    await expectStreamRefused(path, {}, maxBytes);
  });

  it("a declared Content-Length over the limit is refused before the body is read", async () => {
    const body = countingBody();
    const res = await SELF.fetch(`${ORIGIN}/runner/v1/lease`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(TOTAL_CHUNKS * CHUNK_BYTES) },
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    await expectError(res, 413, "payload_too_large");
    expect(body.pulled()).toBeLessThan(8);
  });

  it("a body just under the limit is read whole", async () => {
    const spec = JSON.stringify(taskSpec({ pool: uniquePool() }));
    const padded = spec + " ".repeat(API_BODY_MAX_BYTES - spec.length);
    expect((await apiFetch("/api/v1/tasks", { body: padded, headers: { "content-type": "application/json" } })).status).toBe(201);
  });
});

describe("duplicate JSON keys", () => {
  it("finds the first duplicated key at any depth, and nothing in distinct objects", () => {
    expect(duplicateKeyPath(`{"a":1,"b":2}`)).toBeNull();
    expect(duplicateKeyPath(`{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}`)).toBeNull();
    expect(duplicateKeyPath(`{"a":"\\"a\\"","b":["a","a"]}`)).toBeNull();
    expect(duplicateKeyPath(`{"a":1,"a":2}`)).toBe("a");
    expect(duplicateKeyPath(`{"a":1,"\\u0061":2}`)).toBe("a");
    expect(duplicateKeyPath(`{"repo":{"url":"x","ref":"y","url":"z"}}`)).toBe("repo.url");
    expect(duplicateKeyPath(`{"events":[{"t":1},{"t":1,"s":"}","t":2}]}`)).toBe("events.1.t");
    expect(duplicateKeyPath(`[[1],{"k":[{}],"k":0}]`)).toBe("1.k");
  });

  it("POST /api/v1/tasks: a key given twice is 400 invalid_json naming it", async () => {
    const spec = taskSpec({ pool: uniquePool() });
    const body = JSON.stringify(spec).replace(/}$/, `,"prompt":"something else"}`);
    const error = await expectError(await apiFetch("/api/v1/tasks", { body, headers: { "content-type": "application/json" } }), 400, "invalid_json", "prompt");
    expect(error.error.message).toContain('"prompt"');
  });

  it("POST /api/v1/tasks: a nested key given twice is named with its path", async () => {
    const body = JSON.stringify(taskSpec({ pool: uniquePool() })).replace(`"ref":"main"`, `"ref":"main","ref":"other"`);
    const error = await expectError(
      await apiFetch("/api/v1/tasks", { body, headers: { "content-type": "application/json" } }),
      400,
      "invalid_json",
      "repo.ref",
    );
    expect(error.error.message).toContain('"repo.ref"');
  });

  it("POST /runner/v1/lease: a key given twice in a signed body is 400 invalid_json naming it", async () => {
    const body = `{"runner_id":"runner-1","pool":"${uniquePool()}","clis":["demo"],"wait_ms":0,"runner_id":"runner-2"}`;
    await expectError(await runnerPost("/runner/v1/lease", body), 400, "invalid_json", "runner_id");
  });
});

describe("bytes and charsets", () => {
  /** `text` as UTF-8 with its one DEL character turned into 0xFF, a byte UTF-8 never has. */
  const badUtf8 = (text: string) => {
    const bytes = new TextEncoder().encode(text);
    const at = text.indexOf("\u007f");
    bytes[at] = 0xff;
    return bytes;
  };

  it("POST /api/v1/tasks: bytes that are not UTF-8 are 400 invalid_json saying so", async () => {
    const body = badUtf8(JSON.stringify(taskSpec({ pool: uniquePool(), prompt: "fix \u007f this" })));
    const res = await SELF.fetch(`${ORIGIN}/api/v1/tasks`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, "content-type": "application/json" },
      body,
    });
    expect((await expectError(res, 400, "invalid_json")).error.message).toMatch(/UTF-8/);
  });

  it("POST /runner/v1/lease: a signed body that is not UTF-8 is 400 invalid_json saying so", async () => {
    const path = "/runner/v1/lease";
    const body = badUtf8(`{"runner_id":"runner-\u007f","pool":"${uniquePool()}","clis":["demo"],"wait_ms":0}`);
    const signed = await signRequest({ secret: TEST_RUNNER_SECRETS[0], method: "POST", pathAndQuery: path, body });
    const res = await SELF.fetch(`${ORIGIN}${path}`, { method: "POST", headers: { "content-type": "application/json", ...signed }, body });
    expect((await expectError(res, 400, "invalid_json")).error.message).toMatch(/UTF-8/);
  });

  it.each([
    "application/json; charset=latin1",
    "application/json;charset=ISO-8859-1",
    'application/json; charset="utf-16"',
    "application/json; foo=bar; charset=us-ascii",
  ])("Content-Type %s is 415 naming the charset", async (type) => {
    const res = await apiFetch("/api/v1/tasks", { body: JSON.stringify(taskSpec({ pool: uniquePool() })), headers: { "content-type": type } });
    expect((await expectError(res, 415, "unsupported_media_type")).error.message).toMatch(/charset/);
    const runner = await runnerPost(
      "/runner/v1/lease",
      { runner_id: "runner-1", pool: uniquePool(), clis: ["demo"], wait_ms: 0 },
      { headers: { "content-type": type } },
    );
    expect((await expectError(runner, 415, "unsupported_media_type")).error.message).toMatch(/charset/);
  });

  it.each(["application/json; charset=UTF-8", 'application/json; charset="utf-8"', "application/json;charset=Utf-8"])(
    "Content-Type %s is accepted",
    async (type) => {
      expect((await apiFetch("/api/v1/tasks", { body: JSON.stringify(taskSpec({ pool: uniquePool() })), headers: { "content-type": type } })).status).toBe(201);
      expect(
        (await runnerPost("/runner/v1/lease", { runner_id: "runner-1", pool: uniquePool(), clis: ["demo"], wait_ms: 0 }, { headers: { "content-type": type } }))
          .status,
      ).toBe(204);
    },
  );

  it.each(["gzip", "br", "deflate, gzip"])("Content-Encoding %s on a body is 415 naming it", async (encoding) => {
    const res = await apiFetch("/api/v1/tasks", {
      body: JSON.stringify(taskSpec({ pool: uniquePool() })),
      headers: { "content-type": "application/json", "content-encoding": encoding },
    });
    expect((await expectError(res, 415, "unsupported_media_type")).error.message).toContain("Content-Encoding");
    const runner = await runnerPost(
      "/runner/v1/lease",
      { runner_id: "runner-1", pool: uniquePool(), clis: ["demo"], wait_ms: 0 },
      { headers: { "content-encoding": encoding } },
    );
    expect((await expectError(runner, 415, "unsupported_media_type")).error.message).toContain("Content-Encoding");
  });

  it("Content-Encoding identity is accepted", async () => {
    const res = await apiFetch("/api/v1/tasks", {
      body: JSON.stringify(taskSpec({ pool: uniquePool() })),
      headers: { "content-type": "application/json", "content-encoding": "identity" },
    });
    expect(res.status).toBe(201);
  });

  it("POST /api/v1/webhook-secret/rotate with an empty body rotates with the default overlap", async () => {
    const res = await apiFetch("/api/v1/webhook-secret/rotate", { method: "POST", body: "", headers: { "content-type": "application/json" } });
    expect(res.status, await res.clone().text()).toBe(200);
  });
});
