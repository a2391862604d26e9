/**
 * Integration: the HMAC signature on every runner request. Anything but a fresh signature,
 * by a configured secret, over this exact method, path and body, is a 401 envelope.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RUNNER_BODY_MAX_BYTES } from "#api/limits.js";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signRequest } from "#api/signing.js";
import { ORIGIN, expectError, uniquePool } from "./api-client.js";
import { TEST_RUNNER_SECRETS } from "./credentials.js";
import { runnerPost } from "./runner-client.js";

const PATH = "/runner/v1/lease";
const leaseBody = (pool: string) => JSON.stringify({ runner_id: "runner-1", pool, clis: ["demo"], wait_ms: 0 });

/** Posts `body` with exactly `headers` (no signing of its own). */
function post(path: string, body: string, headers: Record<string, string>): Promise<Response> {
  return SELF.fetch(`${ORIGIN}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

describe("runner signature", () => {
  it("accepts a request signed with either secret of a rotation", async () => {
    const body = leaseBody(uniquePool());
    for (const secret of TEST_RUNNER_SECRETS) {
      expect((await runnerPost(PATH, body, { secret })).status).toBe(204);
    }
  });

  it("refuses a request without signature headers", async () => {
    const body = await expectError(await post(PATH, leaseBody(uniquePool()), {}), 401, "unauthorized");
    expect(body.error.message).toBe("request is not signed");
    const signed = await signRequest({ secret: TEST_RUNNER_SECRETS[0], method: "POST", pathAndQuery: PATH, body: leaseBody("x") });
    await expectError(await post(PATH, leaseBody("x"), { [TIMESTAMP_HEADER]: signed[TIMESTAMP_HEADER]! }), 401, "unauthorized");
    await expectError(await post(PATH, leaseBody("x"), { [SIGNATURE_HEADER]: signed[SIGNATURE_HEADER]! }), 401, "unauthorized");
  });

  it("refuses a signature by a secret the edge does not hold", async () => {
    const res = await runnerPost(PATH, leaseBody(uniquePool()), { secret: "some-other-secret-0123456789abcdef" });
    expect((await expectError(res, 401, "unauthorized")).error.message).toBe("request signature does not match");
  });

  it("refuses a tampered signature and a malformed one", async () => {
    const body = leaseBody(uniquePool());
    const signed = await signRequest({ secret: TEST_RUNNER_SECRETS[0], method: "POST", pathAndQuery: PATH, body });
    const sig = signed[SIGNATURE_HEADER]!;
    const flipped = sig.slice(0, -1) + (sig.endsWith("0") ? "1" : "0");
    await expectError(await post(PATH, body, { ...signed, [SIGNATURE_HEADER]: flipped }), 401, "unauthorized");
    for (const malformed of [sig.replace("v1=", "v2="), sig.toUpperCase(), sig.slice(0, -2), "v1=xyz"]) {
      const res = await post(PATH, body, { ...signed, [SIGNATURE_HEADER]: malformed });
      expect((await expectError(res, 401, "unauthorized")).error.message).toBe("request signature or timestamp is malformed");
    }
  });

  it("refuses timestamps more than 5 minutes old or ahead", async () => {
    const body = leaseBody(uniquePool());
    for (const skewMs of [-301_000, 301_000]) {
      const res = await runnerPost(PATH, body, { now: () => Date.now() + skewMs });
      expect((await expectError(res, 401, "unauthorized")).error.message).toBe("request timestamp is too old or too far in the future");
    }
    // Within the window, a little clock skew is fine.
    expect((await runnerPost(PATH, body, { now: () => Date.now() - 240_000 })).status).toBe(204);
  });

  it("refuses a captured signature replayed with a different body, path or timestamp", async () => {
    const body = leaseBody(uniquePool());
    const signed = await signRequest({ secret: TEST_RUNNER_SECRETS[0], method: "POST", pathAndQuery: PATH, body });
    expect((await post(PATH, body, signed)).status).toBe(204);

    const otherBody = leaseBody(uniquePool());
    await expectError(await post(PATH, otherBody, signed), 401, "unauthorized");
    await expectError(await post(`${PATH}?x=1`, body, signed), 401, "unauthorized");
    const hb = "/runner/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa/heartbeat";
    await expectError(await post(hb, body, signed), 401, "unauthorized");
    const movedTimestamp = { ...signed, [TIMESTAMP_HEADER]: String(Number(signed[TIMESTAMP_HEADER]) - 1) };
    await expectError(await post(PATH, body, movedTimestamp), 401, "unauthorized");
  });

  it("checks the signature before anything else about the request", async () => {
    // Unsigned garbage and an unsigned request for an unknown task get the same 401.
    await expectError(await post(PATH, "{not json", {}), 401, "unauthorized");
    await expectError(await post("/runner/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa/complete", "{}", {}), 401, "unauthorized");
  });

  it("refuses a body over the runner limit with 413 before reading it as JSON", async () => {
    const res = await runnerPost(PATH, "x".repeat(RUNNER_BODY_MAX_BYTES + 1));
    await expectError(res, 413, "payload_too_large");
  });

  it("answers a signed but invalid request with a 400 envelope naming the field", async () => {
    const res = await runnerPost(PATH, { runner_id: "runner-1", clis: [], wait_ms: 0 });
    await expectError(res, 400, "validation_failed", "clis");
    await expectError(await runnerPost(PATH, "{not json"), 400, "invalid_json");
  });
});
