// Unit: the GitHub webhook source allowlist.
import { describe, expect, it } from "vitest";
import { GITHUB_HOOK_RANGES, parseAllowedSources, sourceAllowed } from "../../edge/src/github/webhook-sources.js";

function ranges(text: string | undefined) {
  const parsed = parseAllowedSources(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.ranges;
}

describe("parseAllowedSources", () => {
  it("is off when unset or blank", () => {
    expect(ranges(undefined)).toBeNull();
    expect(ranges("  ")).toBeNull();
    expect(sourceAllowed("203.0.113.9", null)).toBe(true);
  });

  it("expands github to GitHub's published hook ranges", () => {
    const github = ranges("GitHub");
    expect(github?.map((r) => r.text)).toEqual(GITHUB_HOOK_RANGES);
    expect(sourceAllowed("140.82.115.10", github)).toBe(true);
    expect(sourceAllowed("192.30.255.254", github)).toBe(true);
    expect(sourceAllowed("2606:50c0:8000::154", github)).toBe(true);
    expect(sourceAllowed("192.30.251.255", github)).toBe(false);
    expect(sourceAllowed("203.0.113.9", github)).toBe(false);
    expect(sourceAllowed(null, github)).toBe(false);
    expect(sourceAllowed("not an address", github)).toBe(false);
  });

  it("takes a comma list of CIDRs, alone or beside github", () => {
    const mixed = ranges("github, 10.0.0.0/8,::1");
    expect(sourceAllowed("10.1.2.3", mixed)).toBe(true);
    expect(sourceAllowed("::1", mixed)).toBe(true);
    expect(sourceAllowed("140.82.112.1", mixed)).toBe(true);
    expect(sourceAllowed("11.0.0.1", mixed)).toBe(false);
  });

  it("names the entry that is not a range", () => {
    expect(parseAllowedSources("github, 10.0.0.1/8")).toMatchObject({ ok: false, problem: expect.stringContaining('"10.0.0.1/8"') });
    expect(parseAllowedSources("githb")).toMatchObject({ ok: false, problem: expect.stringContaining('"githb"') });
  });
});
