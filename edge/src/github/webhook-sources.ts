/**
 * Where GitHub webhook deliveries may come from, for the optional source allowlist
 * (`GITHUB_WEBHOOK_ALLOWED_SOURCES`).
 *
 * The signature is what proves a delivery is GitHub's; the allowlist is a second fence that
 * turns away everyone else before their body is even read. `github` stands for the `hooks`
 * ranges of GitHub's meta API (`GET /meta`), which change rarely; operators on GitHub
 * Enterprise Server, behind a proxy, or when GitHub adds a range list their own CIDRs.
 * @module
 */
import { type CidrRange, ipAllowed, parseCidr } from "#api/cidr.js";

/** The `hooks` list of GitHub's meta API (api.github.com/meta), IPv4 and IPv6. */
export const GITHUB_HOOK_RANGES: readonly string[] = [
  "192.30.252.0/22",
  "185.199.108.0/22",
  "140.82.112.0/20",
  "143.55.64.0/20",
  "2a0a:a440::/29",
  "2606:50c0::/32",
];

/** More entries than any real allowlist needs; bounds the work per delivery. */
export const ALLOWED_SOURCES_MAX = 64;

export type AllowedSources = { ok: true; ranges: CidrRange[] | null } | { ok: false; problem: string };

/**
 * Parses the setting: unset or blank → no allowlist (`ranges: null`); otherwise a comma list
 * whose entries are CIDR ranges or `github` (GitHub's published hook ranges).
 * @example
 * parseAllowedSources("github, 10.0.0.0/8");
 */
export function parseAllowedSources(text: string | undefined): AllowedSources {
  if (text === undefined || text.trim() === "") return { ok: true, ranges: null };
  const entries = text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (entries.length > ALLOWED_SOURCES_MAX) {
    return { ok: false, problem: `GITHUB_WEBHOOK_ALLOWED_SOURCES lists more than ${ALLOWED_SOURCES_MAX} entries` };
  }
  const ranges: CidrRange[] = [];
  for (const entry of entries) {
    for (const cidr of entry.toLowerCase() === "github" ? GITHUB_HOOK_RANGES : [entry]) {
      const parsed = parseCidr(cidr);
      if (!parsed.ok) return { ok: false, problem: `GITHUB_WEBHOOK_ALLOWED_SOURCES: ${JSON.stringify(entry)}: ${parsed.reason}` };
      ranges.push(parsed.range);
    }
  }
  return { ok: true, ranges };
}

/** True when there is no allowlist, or `address` (the connecting IP) lies in one of its ranges. */
export function sourceAllowed(address: string | null | undefined, ranges: readonly CidrRange[] | null): boolean {
  return ranges === null || ipAllowed(ranges, address);
}
