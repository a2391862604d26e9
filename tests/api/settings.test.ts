/** Unit: the setting parsers the edge and the runner share (api/settings.ts). */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { booleanSetting, CommaList, numberSetting } from "#api/settings.js";

describe("booleanSetting", () => {
  const flag = booleanSetting(false);
  const on = booleanSetting(true);

  it("reads true/false, 1/0 and yes/no in any case, and YAML booleans", () => {
    for (const word of ["true", "1", "yes", "YES", " True "]) expect(flag.parse(word), word).toBe(true);
    for (const word of ["false", "0", "no", "No"]) expect(on.parse(word), word).toBe(false);
    expect(flag.parse(true)).toBe(true);
    expect(on.parse(false)).toBe(false);
  });

  it("gives the default when unset or blank", () => {
    expect(flag.parse(undefined)).toBe(false);
    expect(on.parse(undefined)).toBe(true);
    expect(on.parse("")).toBe(true);
    expect(flag.parse("  ")).toBe(false);
  });

  it("refuses any other word, saying which ones it takes", () => {
    for (const word of ["on", "enabled", "2", "truthy"]) {
      const parsed = flag.safeParse(word);
      expect(parsed.success, word).toBe(false);
      expect(parsed.error?.issues[0]?.message).toBe("must be true or false (or 1/0, yes/no)");
    }
  });
});

describe("numberSetting", () => {
  const limit = numberSetting(z.number({ error: "must be a number" }).int().min(1).default(10));

  it("reads text as a number, a YAML number as it is, and blank or unset as the default", () => {
    expect(limit.parse(" 25 ")).toBe(25);
    expect(limit.parse(7)).toBe(7);
    expect(limit.parse("")).toBe(10);
    expect(limit.parse(undefined)).toBe(10);
  });

  it("refuses words and values out of bounds", () => {
    expect(limit.safeParse("ten").error?.issues[0]?.message).toBe("must be a number");
    expect(limit.safeParse("0").success).toBe(false);
    expect(limit.safeParse("1.5").success).toBe(false);
  });
});

describe("CommaList", () => {
  it("splits text on commas, trimming and dropping blanks; blank text is the empty list", () => {
    expect(CommaList.parse("a, b,,c ")).toEqual(["a", "b", "c"]);
    expect(CommaList.parse("")).toEqual([]);
    expect(CommaList.parse(["x", "y"])).toEqual(["x", "y"]);
  });

  it("gives a default only when the variable is absent", () => {
    const policies = CommaList.default(["tasks"]);
    expect(policies.parse(undefined)).toEqual(["tasks"]);
    expect(policies.parse("")).toEqual([]);
  });
});
