/**
 * What `npm audit --omit=dev --json` found, read against the reviewed allowlist
 * (`audit-allowlist.json`): which high and critical advisories are accepted by a review that
 * still holds, and which fail the build. Pure functions; `scripts/audit-dependencies.ts` runs
 * npm and prints.
 * @module
 */
import { z } from "zod";

/** Severities that fail the build unless allowed. */
export const FAILING_SEVERITIES: ReadonlySet<string> = new Set(["high", "critical"]);

/** One reviewed exception. `id` is the advisory's GHSA id or its URL. */
export const AllowlistEntry = z.strictObject({
  id: z.string().min(1),
  package: z.string().min(1),
  reason: z.string().min(20, "say why the advisory does not apply"),
  reviewed_by: z.string().min(1),
  /** The day (YYYY-MM-DD, UTC) after which the entry no longer allows anything: review again. */
  review_by: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "review_by must be YYYY-MM-DD"),
});
export type AllowlistEntry = z.infer<typeof AllowlistEntry>;

export const Allowlist = z.strictObject({
  $comment: z.string().optional(),
  advisories: z.array(AllowlistEntry),
});
export type Allowlist = z.infer<typeof Allowlist>;

/** One advisory against one package, as npm audit reports it in a `via` entry. */
export interface Advisory {
  /** GHSA id when the URL names one, else the URL, else npm's numeric source. */
  id: string;
  url: string;
  package: string;
  severity: string;
  title: string;
  range: string;
}

const ViaAdvisory = z.looseObject({
  source: z.union([z.number(), z.string()]).optional(),
  name: z.string(),
  title: z.string().default(""),
  url: z.string().default(""),
  severity: z.string(),
  range: z.string().default(""),
});

const AuditReport = z.looseObject({
  auditReportVersion: z.literal(2),
  vulnerabilities: z.record(z.string(), z.looseObject({ via: z.array(z.unknown()).default([]) })),
});

export type ReadResult = { ok: true; advisories: Advisory[] } | { ok: false; problem: string };

/**
 * The advisories in npm audit's JSON output (report version 2), each once; or why the output
 * is not a report (the audit endpoint refused or could not be reached, npm failed).
 */
export function readAuditOutput(stdout: string): ReadResult {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    return { ok: false, problem: `npm audit printed no JSON report: ${stdout.trim().slice(0, 300) || "(nothing)"}` };
  }
  const report = AuditReport.safeParse(json);
  if (!report.success) {
    const o = (json ?? {}) as { message?: unknown; error?: { summary?: unknown; code?: unknown } };
    const why = [o.message, o.error?.code, o.error?.summary].filter((x) => typeof x === "string" && x !== "").join("; ");
    return { ok: false, problem: `npm audit did not produce a report${why ? `: ${why}` : ""}` };
  }
  const seen = new Map<string, Advisory>();
  for (const vulnerability of Object.values(report.data.vulnerabilities)) {
    for (const via of vulnerability.via) {
      // A string names another vulnerable package; its advisories are listed under it.
      const advisory = ViaAdvisory.safeParse(via);
      if (!advisory.success) continue;
      const a = advisory.data;
      const ghsa = /GHSA(-[23456789cfghjmpqrvwx]{4}){3}/i.exec(a.url)?.[0];
      const id = ghsa ?? (a.url || String(a.source ?? a.title));
      seen.set(`${id} ${a.name}`, { id, url: a.url, package: a.name, severity: a.severity, title: a.title, range: a.range });
    }
  }
  return { ok: true, advisories: [...seen.values()] };
}

export interface Verdict {
  /** High or critical, with no allowlist entry that holds: these fail the build. */
  failing: Advisory[];
  /** High or critical, allowed by an entry whose review date has not passed. */
  allowed: { advisory: Advisory; entry: AllowlistEntry }[];
  /** Below high: reported, never failing. */
  other: Advisory[];
  /** Entries past their review date (they allow nothing any more). */
  expired: AllowlistEntry[];
  /** Entries that matched no advisory: candidates for removal. */
  unused: AllowlistEntry[];
}

function matches(entry: AllowlistEntry, advisory: Advisory): boolean {
  const id = entry.id.trim().toLowerCase();
  const ids = [advisory.id, advisory.url].filter(Boolean).map((x) => x.toLowerCase());
  return entry.package === advisory.package && (ids.includes(id) || (id.startsWith("ghsa-") && advisory.url.toLowerCase().endsWith(id)));
}

/** Sorts advisories against the allowlist as of `today` (YYYY-MM-DD, UTC). */
export function judge(advisories: readonly Advisory[], allowlist: Allowlist, today: string): Verdict {
  const expired = allowlist.advisories.filter((e) => e.review_by < today);
  const current = allowlist.advisories.filter((e) => e.review_by >= today);
  const used = new Set<AllowlistEntry>();
  const verdict: Verdict = { failing: [], allowed: [], other: [], expired, unused: [] };
  for (const advisory of advisories) {
    if (!FAILING_SEVERITIES.has(advisory.severity)) {
      verdict.other.push(advisory);
      continue;
    }
    const entry = current.find((e) => matches(e, advisory));
    if (entry) {
      used.add(entry);
      verdict.allowed.push({ advisory, entry });
    } else {
      verdict.failing.push(advisory);
    }
  }
  for (const entry of allowlist.advisories) {
    if (!used.has(entry) && !expired.includes(entry) && !advisories.some((a) => matches(entry, a))) verdict.unused.push(entry);
  }
  return verdict;
}
