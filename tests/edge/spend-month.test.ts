/**
 * Unit: the calendar months (UTC) monthly spend counts in, and the meter's own bookkeeping:
 * a month's boundaries, the year's turn, and a charge counted once however often it is sent.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { monthOf, nextMonthStart } from "../../edge/src/spend/month.js";
import { spendRefusal } from "../../edge/src/spend/spend-limit.js";

describe("months", () => {
  it("are named by their UTC year and month, whatever the local offset of a timestamp", () => {
    expect(monthOf(Date.parse("2026-11-30T23:59:59.999Z"))).toBe("2026-11");
    expect(monthOf(Date.parse("2026-12-01T00:00:00.000Z"))).toBe("2026-12");
    expect(monthOf(Date.parse("2026-12-01T00:30:00.000+01:00"))).toBe("2026-11");
  });

  it("reset at the first instant of the next month, across the year's end and February", () => {
    expect(new Date(nextMonthStart(Date.parse("2026-12-31T23:59:59.999Z"))).toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(new Date(nextMonthStart(Date.parse("2028-02-29T12:00:00.000Z"))).toISOString()).toBe("2028-03-01T00:00:00.000Z");
    expect(new Date(nextMonthStart(Date.parse("2027-01-01T00:00:00.000Z"))).toISOString()).toBe("2027-02-01T00:00:00.000Z");
  });
});

describe("the spend limit", () => {
  const spend = (spentUsd: number) => ({ month: "2026-11", spentUsd, resetsAt: Date.parse("2026-12-01T00:00:00.000Z") });

  it("leaves room below the limit and refuses at it and past it, naming spend, limit and reset", () => {
    expect(spendRefusal(spend(9.99), 10)).toBeNull();
    for (const spent of [10, 12.5]) {
      const refusal = spendRefusal(spend(spent), 10);
      expect(refusal?.code).toBe("spend_limit_reached");
      expect(refusal?.message).toContain(`$${spent}`);
      expect(refusal?.message).toContain("monthly_spend_usd of $10");
      expect(refusal?.message).toContain("2026-12-01T00:00:00.000Z");
    }
    // Float sums print as people wrote them.
    expect(spendRefusal(spend(0.1 + 0.2), 0.3)?.message).toContain("$0.3 ");
  });
});

describe("the spend meter", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("counts a charge once, in its own month, and forgets charge names older than last month", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-12-05T10:00:00Z"));
    const meter = env.SPEND_METERS.get(env.SPEND_METERS.idFromName(`key_${crypto.randomUUID().slice(0, 8)}`));
    expect(await meter.charge({ id: "t@1/1/1", month: "2026-10", costUsd: 1 })).toEqual({ counted: true });
    expect(await meter.charge({ id: "t@1/1/2", month: "2026-11", costUsd: 0.5 })).toEqual({ counted: true });
    expect(await meter.charge({ id: "t@1/1/2", month: "2026-11", costUsd: 0.5 })).toEqual({ counted: false });
    expect(await meter.spend(Date.parse("2026-11-15T00:00:00Z"))).toEqual({ month: "2026-11", spentUsd: 0.5, resetsAt: Date.parse("2026-12-01T00:00:00Z") });
    expect((await meter.spend(Date.parse("2026-10-15T00:00:00Z"))).spentUsd).toBe(1);
    const kept = await runInDurableObject(meter, (_i, state) =>
      state.storage.sql
        .exec<{ month: string }>("SELECT month FROM charges ORDER BY month")
        .toArray()
        .map((r) => r.month),
    );
    // Charged in December: October's name is gone (its total stays), November's is kept.
    expect(kept).toEqual(["2026-11"]);
  });
});
