// The dependency audit's reading of npm audit output against the reviewed allowlist
// (scripts/dependency-audit.ts), on a report in npm audit's JSON format (report version 2).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Allowlist, judge, readAuditOutput, type AllowlistEntry } from "../../scripts/dependency-audit.js";

const report = readFileSync(new URL("./fixtures/npm-audit-report.json", import.meta.url), "utf8");

const wsEntry: AllowlistEntry = {
  id: "GHSA-3h5v-q93c-6h6q",
  package: "ws",
  reason: "Only the runner's client side uses ws; the advisory is about a server parsing request headers.",
  reviewed_by: "security@codeforge.example",
  review_by: "2027-01-31",
};

function advisories() {
  const read = readAuditOutput(report);
  if (!read.ok) throw new Error(read.problem);
  return read.advisories;
}

describe("dependency audit", () => {
  it("reads each advisory once, with its GHSA id, and skips the packages that are vulnerable only through another", () => {
    expect(
      advisories()
        .map((a) => `${a.id} ${a.package} ${a.severity}`)
        .sort(),
    ).toEqual(["GHSA-3h5v-q93c-6h6q ws critical", "GHSA-9wv6-86v2-598j path-to-regexp high", "GHSA-pxg6-pf52-xh8x cookie low"]);
  });

  it("fails on every high and critical advisory when the allowlist is empty, and never on a low one", () => {
    const verdict = judge(advisories(), { advisories: [] }, "2026-12-03");
    expect(verdict.failing.map((a) => a.package).sort()).toEqual(["path-to-regexp", "ws"]);
    expect(verdict.other.map((a) => a.package)).toEqual(["cookie"]);
  });

  it("lets a reviewed entry allow its advisory for its package only, until its review date", () => {
    const verdict = judge(advisories(), { advisories: [wsEntry] }, "2026-12-03");
    expect(verdict.failing.map((a) => a.package)).toEqual(["path-to-regexp"]);
    expect(verdict.allowed.map((x) => x.advisory.package)).toEqual(["ws"]);
    // The same id listed for another package allows nothing.
    expect(judge(advisories(), { advisories: [{ ...wsEntry, package: "path-to-regexp" }] }, "2026-12-03").failing).toHaveLength(2);
    // By URL as well as by GHSA id.
    const byUrl = judge(advisories(), { advisories: [{ ...wsEntry, id: "https://github.com/advisories/GHSA-3h5v-q93c-6h6q" }] }, "2026-12-03");
    expect(byUrl.failing.map((a) => a.package)).toEqual(["path-to-regexp"]);
  });

  it("stops allowing once the review date has passed, and says so", () => {
    const onTheDay = judge(advisories(), { advisories: [wsEntry] }, "2027-01-31");
    expect(onTheDay.failing.map((a) => a.package)).toEqual(["path-to-regexp"]);
    const after = judge(advisories(), { advisories: [wsEntry] }, "2027-02-01");
    expect(after.failing.map((a) => a.package).sort()).toEqual(["path-to-regexp", "ws"]);
    expect(after.expired).toEqual([wsEntry]);
  });

  it("names allowlist entries that match nothing any more", () => {
    const stale = { ...wsEntry, id: "GHSA-xxxx-xxxx-xxxx", package: "left-pad" };
    expect(judge(advisories(), { advisories: [wsEntry, stale] }, "2026-12-03").unused).toEqual([stale]);
  });

  it("tells an endpoint error or garbage from a report", () => {
    const refused = JSON.stringify({
      message: "405 Method Not Allowed - POST https://registry.example/-/npm/v1/security/advisories/bulk",
      statusCode: 405,
      error: { summary: "", detail: "" },
    });
    const read = readAuditOutput(refused);
    expect(read).toEqual({ ok: false, problem: expect.stringContaining("405 Method Not Allowed") });
    expect(readAuditOutput("").ok).toBe(false);
    expect(readAuditOutput("npm ERR! network").ok).toBe(false);
    expect(readAuditOutput(JSON.stringify({ auditReportVersion: 2, vulnerabilities: {} }))).toEqual({ ok: true, advisories: [] });
  });

  it("refuses an allowlist entry without a reason, a reviewer or a review date", () => {
    expect(Allowlist.safeParse({ advisories: [wsEntry] }).success).toBe(true);
    for (const field of ["reason", "reviewed_by", "review_by"] as const) {
      const { [field]: _, ...incomplete } = wsEntry;
      expect(Allowlist.safeParse({ advisories: [incomplete] }).success, field).toBe(false);
    }
    expect(Allowlist.safeParse({ advisories: [{ ...wsEntry, review_by: "soon" }] }).success).toBe(false);
  });

  it("the committed allowlist is valid", async () => {
    const { default: committed } = await import("../../audit-allowlist.json", { with: { type: "json" } });
    expect(Allowlist.safeParse(committed).success).toBe(true);
  });
});
