/**
 * Integration: CORS. Only the origins in `CORS_ALLOWED_ORIGINS` get CORS headers (the suite
 * allows two); a preflight is answered without a key; other origins get none, so browsers
 * block them. Same-origin and non-browser clients are unaffected.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ORIGIN, apiFetch } from "./api-client.js";
import { TEST_CORS_ORIGINS } from "./credentials.js";

const allowed = TEST_CORS_ORIGINS[0];

describe("CORS", () => {
  it("answers a preflight from an allowed origin without a key", async () => {
    const res = await SELF.fetch(`${ORIGIN}/api/v1/tasks`, {
      method: "OPTIONS",
      headers: { origin: allowed, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, idempotency-key" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("idempotency-key");
    // An EventSource reconnecting from another origin sends Last-Event-ID.
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("last-event-id");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("allows each listed origin and exposes the request id to it", async () => {
    for (const origin of TEST_CORS_ORIGINS) {
      const res = await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa", { headers: { origin } });
      expect(res.status).toBe(404);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      expect(res.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("x-request-id");
      expect(res.headers.get("vary")?.toLowerCase()).toContain("origin");
    }
  });

  it.each(["https://evil.example", "https://app.codeforge.test.evil.example", "http://app.codeforge.test", "null"])(
    "gives no CORS headers to %s",
    async (origin) => {
      const preflight = await SELF.fetch(`${ORIGIN}/api/v1/tasks`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
      expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
      const res = await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa", { headers: { origin } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    },
  );

  it("still requires the key on the actual request from an allowed origin", async () => {
    const res = await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa", { key: null, headers: { origin: allowed } });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
  });
});
