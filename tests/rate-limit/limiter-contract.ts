/**
 * The limiter contract: the same cases, run against every backend (`tests/edge/
 * rate-limiter-durable-object.test.ts`, `tests/edge-upstash/upstash-limiter.test.ts`).
 *
 * A backend brings its own clock: the Durable Object's is moved with a fake `Date`, Redis's
 * `TIME` only by waiting, so each harness says how to `advance` and how much slack its clock
 * needs. Windows are long enough that the slack never decides a case.
 * @module
 */
import { describe, expect, it } from "vitest";
import type { Limiter, LimitResult } from "../../edge/src/rate-limit/limiter.js";

export interface LimiterHarness {
  name: string;
  limiter(): Limiter;
  /** Moves the backend's clock forward by `ms` (fake or real). */
  advance(ms: number): Promise<void>;
  /** How far real elapsed time may blur a time-dependent figure (0 for a fake clock). */
  slackMs: number;
  /** The window of the sliding cases: long for a fake clock, a few seconds for a real one. */
  slideWindowMs: number;
}

const admitted = (results: LimitResult[]) => results.filter((r) => r.allowed).length;

export function limiterContract(h: LimiterHarness): void {
  const freshKey = () => `contract:${crypto.randomUUID()}`;

  describe(`limiter contract — ${h.name}`, () => {
    it("admits exactly 10 of 50 parallel requests against a limit of 10", async () => {
      const limiter = h.limiter();
      const key = freshKey();
      const results = await Promise.all(Array.from({ length: 50 }, () => limiter.limit(key, { limit: 10, windowMs: 60_000 })));
      expect(admitted(results)).toBe(10);
      // Each admission saw a distinct count: remaining 9, 8, …, 0 exactly once.
      expect(
        results
          .filter((r) => r.allowed)
          .map((r) => r.remaining)
          .sort((a, b) => a - b),
      ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const refused of results.filter((r) => !r.allowed)) {
        expect(refused).toMatchObject({ limit: 10, remaining: 0 });
        expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(59);
        expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
      }
    });

    it("keeps each key's budget to itself", async () => {
      const limiter = h.limiter();
      const [a, b] = [freshKey(), freshKey()];
      for (let i = 0; i < 3; i++) expect((await limiter.limit(a, { limit: 3, windowMs: 60_000 })).allowed).toBe(true);
      expect((await limiter.limit(a, { limit: 3, windowMs: 60_000 })).allowed).toBe(false);
      expect(await limiter.limit(b, { limit: 3, windowMs: 60_000 })).toMatchObject({ allowed: true, remaining: 2 });
    });

    it("reports remaining, reset and no Retry-After while admitting", async () => {
      const limiter = h.limiter();
      const key = freshKey();
      const first = await limiter.limit(key, { limit: 5, windowMs: 60_000 });
      expect(first).toMatchObject({ allowed: true, limit: 5, remaining: 4, retryAfterSeconds: 0 });
      expect(first.resetMs).toBeGreaterThan(60_000 - h.slackMs - 1);
      expect(first.resetMs).toBeLessThanOrEqual(60_000);
    });

    it("gives Retry-After exact to the second: when the oldest request leaves the window", async () => {
      const limiter = h.limiter();
      const key = freshKey();
      for (let i = 0; i < 3; i++) await limiter.limit(key, { limit: 3, windowMs: 60_000 });
      await h.advance(1_500);
      const refused = await limiter.limit(key, { limit: 3, windowMs: 60_000 });
      expect(refused.allowed).toBe(false);
      // The oldest entry leaves 58.5 s from now (less whatever real time the calls took).
      expect(refused.retryAfterSeconds).toBe(59);
      expect(refused.resetMs).toBeLessThanOrEqual(58_500);
      expect(refused.resetMs).toBeGreaterThanOrEqual(58_500 - h.slackMs);
    });

    it("slides: N at the end of one window and N at the start of the next admit N, not 2N", async () => {
      const limiter = h.limiter();
      const key = freshKey();
      const W = h.slideWindowMs;
      const burst = async () => admitted(await Promise.all(Array.from({ length: 5 }, () => limiter.limit(key, { limit: 5, windowMs: W }))));
      expect(await burst()).toBe(5); // "the end of one minute"
      await h.advance(W * 0.2);
      expect(await burst()).toBe(0); // "the start of the next": a fixed window would admit 5 more
      await h.advance(W * 0.6); // 0.8 W after the first burst: still inside its window
      expect(await burst()).toBe(0);
      await h.advance(W * 0.4); // 1.2 W: the first burst has left
      expect(await burst()).toBe(5);
    });

    it("does not count refused requests, so hammering does not push the wait back", async () => {
      const limiter = h.limiter();
      const key = freshKey();
      const W = h.slideWindowMs;
      for (let i = 0; i < 2; i++) expect((await limiter.limit(key, { limit: 2, windowMs: W })).allowed).toBe(true);
      await h.advance(W * 0.5);
      for (let i = 0; i < 10; i++) expect((await limiter.limit(key, { limit: 2, windowMs: W })).allowed).toBe(false);
      await h.advance(W * 0.7);
      expect((await limiter.limit(key, { limit: 2, windowMs: W })).allowed).toBe(true);
    });

    it("peeks without counting (cost 0)", async () => {
      const limiter = h.limiter();
      const key = freshKey();
      for (let i = 0; i < 5; i++) expect(await limiter.limit(key, { limit: 2, windowMs: 60_000, cost: 0 })).toMatchObject({ allowed: true, remaining: 2 });
      await limiter.limit(key, { limit: 2, windowMs: 60_000 });
      await limiter.limit(key, { limit: 2, windowMs: 60_000 });
      const peek = await limiter.limit(key, { limit: 2, windowMs: 60_000, cost: 0 });
      expect(peek).toMatchObject({ allowed: false, remaining: 0 });
      expect(peek.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    });

    it("decides several windows of one owner together: admitted and logged in all, or in none", async () => {
      const limiter = h.limiter();
      const owner = freshKey();
      const [wide, narrow] = [`requests:${owner}`, `tasks:${owner}`];
      const both = () =>
        limiter.limitAll(owner, [
          { key: narrow, options: { limit: 1, windowMs: 60_000 } },
          { key: wide, options: { limit: 3, windowMs: 60_000 } },
        ]);
      const wideOnly = () => limiter.limitAll(owner, [{ key: wide, options: { limit: 3, windowMs: 60_000 } }]);
      expect(await both()).toMatchObject([
        { allowed: true, remaining: 0 },
        { allowed: true, remaining: 2 },
      ]);
      // The narrow window is full: refused, and the wide one (which had room) logs nothing.
      const refused = await both();
      expect(refused).toMatchObject([
        { allowed: false, remaining: 0 },
        { allowed: true, remaining: 2, retryAfterSeconds: 0 },
      ]);
      expect(refused[0]!.retryAfterSeconds).toBeGreaterThanOrEqual(59);
      expect(await wideOnly()).toMatchObject([{ allowed: true, remaining: 1 }]);
      expect(await wideOnly()).toMatchObject([{ allowed: true, remaining: 0 }]);
      expect(await wideOnly()).toMatchObject([{ allowed: false, remaining: 0 }]);
    });

    it("admits exactly the narrowest limit of parallel requests spending two windows", async () => {
      const limiter = h.limiter();
      const owner = freshKey();
      const checks = [
        { key: `tasks:${owner}`, options: { limit: 4, windowMs: 60_000 } },
        { key: `requests:${owner}`, options: { limit: 10, windowMs: 60_000 } },
      ];
      const results = await Promise.all(Array.from({ length: 20 }, () => limiter.limitAll(owner, checks)));
      expect(results.filter((r) => r.every((w) => w.allowed))).toHaveLength(4);
      // Only the admitted four were logged in the wider window.
      expect(await limiter.limitAll(owner, [checks[1]!])).toMatchObject([{ allowed: true, remaining: 10 - 4 - 1 }]);
    });

    it("takes back a released request from every window it was logged in, and nothing else", async () => {
      const limiter = h.limiter();
      const owner = freshKey();
      const checks = [
        { key: `tasks:${owner}`, options: { limit: 2, windowMs: 60_000 } },
        { key: `requests:${owner}`, options: { limit: 5, windowMs: 60_000 } },
      ];
      const first = await limiter.limitAll(owner, checks);
      const second = await limiter.limitAll(owner, checks);
      expect(second).toMatchObject([
        { allowed: true, remaining: 0 },
        { allowed: true, remaining: 3 },
      ]);
      // One id per request, the same in each of its windows, and never another request's.
      const entry = first[0]!.entry!;
      expect(entry).toEqual(expect.any(String));
      expect(first[1]!.entry).toBe(entry);
      expect(second[0]!.entry).not.toBe(entry);
      // Refused, nothing was logged: nothing to give back.
      const refused = await limiter.limitAll(owner, checks);
      expect(refused[0]!.allowed).toBe(false);
      expect(refused.map((r) => r.entry)).toEqual([undefined, undefined]);

      await limiter.release(
        owner,
        checks.map(({ key }) => ({ key, entry })),
      );
      expect(await limiter.limitAll(owner, checks)).toMatchObject([
        { allowed: true, remaining: 0 },
        { allowed: true, remaining: 3 },
      ]);
      // Released again, or under a made-up id, it gives back nothing more.
      await limiter.release(
        owner,
        checks.map(({ key }) => ({ key, entry })),
      );
      await limiter.release(
        owner,
        checks.map(({ key }) => ({ key, entry: crypto.randomUUID() })),
      );
      expect(await limiter.limitAll(owner, checks)).toMatchObject([
        { allowed: false, remaining: 0 },
        { allowed: true, remaining: 3 },
      ]);
    });

    it("releases from one window only when asked for only that one", async () => {
      const limiter = h.limiter();
      const owner = freshKey();
      const [narrow, wide] = [`tasks:${owner}`, `requests:${owner}`];
      const [n, w] = await limiter.limitAll(owner, [
        { key: narrow, options: { limit: 1, windowMs: 60_000 } },
        { key: wide, options: { limit: 1, windowMs: 60_000 } },
      ]);
      await limiter.release(owner, [{ key: wide, entry: w!.entry! }]);
      expect(await limiter.limitAll(owner, [{ key: narrow, options: { limit: 1, windowMs: 60_000, cost: 0 } }])).toMatchObject([{ allowed: false }]);
      expect(await limiter.limitAll(owner, [{ key: wide, options: { limit: 1, windowMs: 60_000, cost: 0 } }])).toMatchObject([{ allowed: true, remaining: 1 }]);
      expect(n!.entry).toBe(w!.entry);
    });

    it("logs no entry for a peek", async () => {
      const limiter = h.limiter();
      expect((await limiter.limit(freshKey(), { limit: 2, windowMs: 60_000, cost: 0 })).entry).toBeUndefined();
    });

    it("releasing an entry that has aged out gives back nothing of the newer ones", async () => {
      const limiter = h.limiter();
      const key = freshKey();
      const W = h.slideWindowMs;
      const old = await limiter.limit(key, { limit: 1, windowMs: W });
      await h.advance(W * 1.2);
      expect(await limiter.limit(key, { limit: 1, windowMs: W })).toMatchObject({ allowed: true, remaining: 0 });
      await limiter.release(key, [{ key, entry: old.entry! }]);
      expect((await limiter.limit(key, { limit: 1, windowMs: W })).allowed).toBe(false);
    });
  });
}
