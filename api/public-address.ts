/**
 * Which IP addresses are public: the one rule for every address CodeForge connects to on a
 * client's say-so — a webhook's callback host (the edge, `callback-url.ts`) and every address a
 * repository's host resolves to (the runner, `runner/src/git/repo-host-check.ts`).
 *
 * Anything else is a request-forgery (SSRF) target: the cloud metadata service that hands out
 * instance credentials (169.254.169.254), loopback admin ports, databases on a private subnet.
 * IPv4 is a denylist of every range that is not publicly routable. IPv6 is an allowlist —
 * global unicast `2000::/3` only — minus the documentation, Teredo and 6to4 ranges, which embed
 * or stand for other addresses. An IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::/96`)
 * address reaches its IPv4 address, and is judged as that address.
 * @module
 */
import { cidrContains, parseCidr, parseIp, type CidrRange, type IpAddress } from "./cidr.js";

/** Ranges refused, each with what it is; IPv4 first, then IPv6 inside `2000::/3`. */
const REFUSED: readonly (readonly [cidr: string, what: string])[] = [
  ["0.0.0.0/8", "unspecified, 'this network'"],
  ["10.0.0.0/8", "private, RFC 1918"],
  ["100.64.0.0/10", "carrier-grade NAT"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local, incl. cloud metadata"],
  ["172.16.0.0/12", "private, RFC 1918"],
  ["192.0.0.0/24", "IETF protocol assignments"],
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "6to4 relay"],
  ["192.168.0.0/16", "private, RFC 1918"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved or broadcast"],
  ["2001:db8::/32", "documentation"],
  ["2001::/32", "Teredo"],
  ["2002::/16", "6to4"],
];

/** IPv6 outside global unicast, named for the refusal; the first that holds wins. */
const NOT_GLOBAL: readonly (readonly [cidr: string, what: string])[] = [
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["::/96", "IPv4-compatible, deprecated"],
  ["fc00::/7", "unique-local"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "site-local"],
  ["ff00::/8", "multicast"],
];

const EMBEDS_IPV4: readonly CidrRange[] = ["::ffff:0:0/96", "64:ff9b::/96"].map(range);
const GLOBAL_UNICAST = range("2000::/3");
const refused = REFUSED.map(([cidr, what]) => ({ range: range(cidr), name: `${what} (${cidr})` }));
const notGlobal = NOT_GLOBAL.map(([cidr, what]) => ({ range: range(cidr), name: `${what} (${cidr})` }));

/**
 * The non-public range `address` lies in, named with its CIDR (`loopback (127.0.0.0/8)`), or
 * null for a public address. Text that is not an IP address is refused as such.
 *
 * @example
 * nonPublicRange("169.254.169.254"); // "link-local, incl. cloud metadata (169.254.0.0/16)"
 * nonPublicRange("::ffff:7f00:1");   // "loopback (127.0.0.0/8)"
 * nonPublicRange("2606:4700::1111"); // null
 */
export function nonPublicRange(address: string | IpAddress): string | null {
  const ip = typeof address === "string" ? parseIp(address) : address;
  if (ip === null) return "not an IP address";
  if (ip.version === 6 && EMBEDS_IPV4.some((r) => cidrContains(r, ip))) {
    return nonPublicRange({ version: 4, bytes: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ip.bytes.slice(12)]) });
  }
  if (ip.version === 6 && !cidrContains(GLOBAL_UNICAST, ip)) {
    return notGlobal.find((r) => cidrContains(r.range, ip))?.name ?? "not global unicast (outside 2000::/3)";
  }
  return refused.find((r) => cidrContains(r.range, ip))?.name ?? null;
}

function range(cidr: string): CidrRange {
  const parsed = parseCidr(cidr);
  if (!parsed.ok) throw new Error(`bad range in public-address.ts: ${cidr}`);
  return parsed.range;
}
