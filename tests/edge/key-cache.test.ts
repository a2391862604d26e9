/**
 * Unit: the per-isolate key cache (entries live at most the TTL, the oldest go first, a key
 * can be dropped at once) and the pure verdict on a found key (revoked, expired, rotated out,
 * outside its allowlist, or the caller's principal).
 */
import { describe, expect, it } from "vitest";
import { KEY_CACHE_TTL_MS, KeyCache } from "../../edge/src/keys/key-cache.js";
import type { KeyCredential, KeyRecord } from "../../edge/src/keys/key-store.js";
import { judgeKey } from "../../edge/src/keys/key-verdict.js";

const T0 = 1_700_000_000_000;

function credential(overrides: Partial<KeyRecord> = {}, secretExpiresAt: number | null = null): KeyCredential {
  return {
    key: {
      seq: 1,
      id: "key_aaaaaaaaaaaaaaaa",
      name: "k",
      scopes: ["tasks:read"],
      createdAt: T0,
      createdBy: "admin",
      expiresAt: null,
      revokedAt: null,
      rotatedAt: null,
      allowedCidrs: [],
      limits: {},
      ...overrides,
    },
    secretExpiresAt,
  };
}

describe("KeyCache", () => {
  it("keeps an entry for less than the TTL, not at or after it", () => {
    let now = T0;
    const cache = new KeyCache({ now: () => now });
    cache.set("h", credential());
    now = T0 + KEY_CACHE_TTL_MS - 1;
    expect(cache.get("h")).toBeDefined();
    now = T0 + KEY_CACHE_TTL_MS;
    expect(cache.get("h")).toBeUndefined();
  });

  it("drops an entry whose clock went backwards rather than keep it forever", () => {
    let now = T0;
    const cache = new KeyCache({ now: () => now });
    cache.set("h", credential());
    now = T0 - 1;
    expect(cache.get("h")).toBeUndefined();
  });

  it("holds at most maxEntries, evicting the oldest", () => {
    const cache = new KeyCache({ maxEntries: 2, now: () => T0 });
    cache.set("a", credential());
    cache.set("b", credential());
    cache.set("c", credential());
    expect(cache.size).toBe(2);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("c")).toBeDefined();
  });

  it("forgets every secret of a key at once", () => {
    const cache = new KeyCache({ now: () => T0 });
    cache.set("old", credential());
    cache.set("new", credential());
    cache.set("other", credential({ id: "key_bbbbbbbbbbbbbbbb" }));
    cache.forgetKey("key_aaaaaaaaaaaaaaaa");
    expect([cache.get("old"), cache.get("new")]).toEqual([undefined, undefined]);
    expect(cache.get("other")).toBeDefined();
  });
});

describe("judgeKey", () => {
  const at = (now: number, clientIp: string | null = null) => ({ now, clientIp });

  it("yields the principal: owner is the key, limits ride along, admin follows the scope", () => {
    const v = judgeKey(credential({ scopes: ["admin"], limits: { requests_per_minute: 5 } }), at(T0));
    expect(v).toEqual({
      ok: true,
      principal: { keyId: "key_aaaaaaaaaaaaaaaa", owner: "key_aaaaaaaaaaaaaaaa", admin: true, scopes: ["admin"], limits: { requests_per_minute: 5 } },
    });
    expect(judgeKey(credential(), at(T0))).toMatchObject({ ok: true, principal: { admin: false } });
  });

  it("refuses from the exact millisecond of expiry, revocation or the end of an overlap", () => {
    expect(judgeKey(credential({ expiresAt: T0 + 10 }), at(T0 + 9)).ok).toBe(true);
    expect(judgeKey(credential({ expiresAt: T0 + 10 }), at(T0 + 10))).toMatchObject({
      ok: false,
      code: "unauthorized",
      message: expect.stringMatching(/expired/),
    });
    expect(judgeKey(credential({ revokedAt: T0 }), at(T0))).toMatchObject({ ok: false, code: "unauthorized", message: expect.stringMatching(/revoked/) });
    expect(judgeKey(credential({}, T0 + 10), at(T0 + 9)).ok).toBe(true);
    expect(judgeKey(credential({}, T0 + 10), at(T0 + 10))).toMatchObject({ ok: false, code: "unauthorized", message: expect.stringMatching(/rotated/) });
  });

  it("refuses with 403 outside the allowlist, and without a known address", () => {
    const c = credential({ allowedCidrs: ["10.0.0.0/8"] });
    expect(judgeKey(c, at(T0, "10.2.3.4")).ok).toBe(true);
    expect(judgeKey(c, at(T0, "11.2.3.4"))).toMatchObject({ ok: false, code: "forbidden" });
    expect(judgeKey(c, at(T0, null))).toMatchObject({ ok: false, code: "forbidden" });
  });
});
