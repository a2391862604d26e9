/**
 * Request signing: golden vectors, cross-checked against Node's own HMAC (an independent
 * implementation), and every way a signature must fail.
 */
import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalString, sha256Hex, signRequest, verifyRequest } from "#api/signing.js";

const secret = "runner-secret-for-golden-vectors";
const body = '{"runner_id":"r1","clis":["demo"]}';
const at = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const encoder = new TextEncoder();

describe("golden vectors", () => {
  it("signs the canonical string of timestamp, method, path and body digest", async () => {
    const canonical = await canonicalString({ timestamp: at / 1000, method: "post", pathAndQuery: "/runner/v1/lease", body });
    expect(canonical).toBe(["CODEFORGE-HMAC-SHA256", "1767225600", "POST", "/runner/v1/lease", createHash("sha256").update(body).digest("hex")].join("\n"));
    const headers = await signRequest({ secret, method: "POST", pathAndQuery: "/runner/v1/lease", body, now: () => at });
    const expected = createHmac("sha256", secret).update(canonical).digest("hex");
    expect(headers).toEqual({ "x-codeforge-timestamp": "1767225600", "x-codeforge-signature": `v1=${expected}` });
    // Pinned so an accidental change to the scheme breaks this test, not deployed runners.
    expect(expected).toBe("99ad2518e43dc8d367c3341b8d2d0e91752f6b0970dd638d08ab699fe4af983c");
  });

  it("hashes the empty body like any other", async () => {
    const canonical = await canonicalString({ timestamp: 1, method: "GET", pathAndQuery: "/x?y=1", body: "" });
    expect(canonical.split("\n")[4]).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("sha256Hex matches Node's", async () => {
    expect(await sha256Hex("lse_abc")).toBe(createHash("sha256").update("lse_abc").digest("hex"));
  });
});

describe("verification", () => {
  const sign = (over: Partial<{ secret: string; body: string; path: string; now: number }> = {}) =>
    signRequest({
      secret: over.secret ?? secret,
      method: "POST",
      pathAndQuery: over.path ?? "/runner/v1/lease",
      body: over.body ?? body,
      now: () => over.now ?? at,
    });

  const verify = async (headers: Record<string, string>, over: Partial<{ body: string; path: string; now: number; secrets: string[] }> = {}) =>
    verifyRequest({
      secrets: over.secrets ?? [secret],
      method: "POST",
      pathAndQuery: over.path ?? "/runner/v1/lease",
      body: encoder.encode(over.body ?? body),
      timestampHeader: headers["x-codeforge-timestamp"],
      signatureHeader: headers["x-codeforge-signature"],
      now: () => over.now ?? at,
    });

  it("accepts a good signature, and any of several secrets during rotation", async () => {
    expect(await verify(await sign())).toEqual({ ok: true });
    expect(await verify(await sign(), { secrets: ["the-new-secret-0123456789", secret] })).toEqual({ ok: true });
  });

  it("refuses a different body, path or secret", async () => {
    const headers = await sign();
    expect(await verify(headers, { body: body.replace("r1", "r2") })).toEqual({ ok: false, reason: "mismatch" });
    expect(await verify(headers, { path: "/runner/v1/tasks/x/complete" })).toEqual({ ok: false, reason: "mismatch" });
    expect(await verify(await sign({ secret: "someone-elses-secret-000" }))).toEqual({ ok: false, reason: "mismatch" });
  });

  it("refuses timestamps more than five minutes away, either way", async () => {
    const headers = await sign();
    expect(await verify(headers, { now: at + 301_000 })).toEqual({ ok: false, reason: "expired" });
    expect(await verify(headers, { now: at - 301_000 })).toEqual({ ok: false, reason: "expired" });
    expect(await verify(headers, { now: at + 299_000 })).toEqual({ ok: true });
  });

  it("refuses missing and malformed headers", async () => {
    const headers = await sign();
    expect(await verify({})).toEqual({ ok: false, reason: "missing" });
    expect(await verify({ ...headers, "x-codeforge-signature": "v2=abc" })).toEqual({ ok: false, reason: "malformed" });
    expect(await verify({ ...headers, "x-codeforge-timestamp": "soon" })).toEqual({ ok: false, reason: "malformed" });
    const flipped = headers["x-codeforge-signature"]!.replace(/.$/, (c) => (c === "0" ? "1" : "0"));
    expect(await verify({ ...headers, "x-codeforge-signature": flipped })).toEqual({ ok: false, reason: "mismatch" });
  });
});
