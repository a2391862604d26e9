/**
 * Resolves a repository's host before git runs, and refuses hosts on the runner's own network.
 *
 * Every address the name resolves to must be public (the contract's `public-address.ts`, the
 * rule the edge applies to webhook hosts too); one private
 * address among public ones is enough to refuse, since git may pick any of them. For `https`
 * the addresses checked are also the ones git is made to use (`http.curloptResolve`), so a
 * name that answers a public address to this lookup and a private one to git's own lookup a
 * moment later (DNS rebinding) still reaches only the address that was checked. `ssh` cannot
 * be pinned that way (ssh resolves the name itself); `file://` has no host and is only
 * accepted in local mode.
 *
 * An operator whose git server lives on the runner's private network names that network
 * (`git_allowed_networks`); an address inside it passes, every other non-public one is still
 * refused.
 * @module
 */
import dns from "node:dns";
import net from "node:net";
import { cidrContains, nonPublicRange, parseIp, type CidrRange } from "#api/index.js";

/** All addresses a host name resolves to. Injectable so tests need no DNS. */
export type HostLookup = (hostname: string) => Promise<string[]>;

/** The system resolver (`getaddrinfo`, as git's own lookup uses), every address. */
export const systemLookup: HostLookup = async (hostname) => (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

export type HostCheck =
  | { ok: true; host: null }
  | { ok: true; host: string; port: number; addresses: string[]; scheme: "https" | "ssh" }
  | { ok: false; reason: string };

/** How long a lookup may take before the repository is refused. */
const LOOKUP_TIMEOUT_MS = 10_000;

/**
 * Checks the host of an already policy-checked repository URL (see `checkRepoUrl`).
 * @example
 * const check = await checkRepoHost("https://github.com/acme/app.git", { lookup: systemLookup });
 */
export async function checkRepoHost(url: string, options: { lookup?: HostLookup; allowedNetworks?: readonly CidrRange[] } = {}): Promise<HostCheck> {
  const lookup = options.lookup ?? systemLookup;
  const target = hostOf(url);
  if (target === null) return { ok: true, host: null };
  if (target === "invalid") return { ok: false, reason: "repository URL has no host" };
  const { host, port, scheme } = target;

  let addresses: string[];
  if (net.isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await withTimeout(lookup(host), LOOKUP_TIMEOUT_MS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
      return { ok: false, reason: `repository host ${host} could not be resolved (${code})` };
    }
    if (addresses.length === 0) return { ok: false, reason: `repository host ${host} has no addresses` };
  }
  for (const address of addresses) {
    const ip = parseIp(address);
    const range = nonPublicRange(ip ?? address);
    const allowed = ip !== null && (options.allowedNetworks ?? []).some((network) => cidrContains(network, ip));
    if (range && !allowed) {
      return {
        ok: false,
        reason: `repository host ${host} resolves to ${address}, a non-public address: ${range}; only public hosts are allowed, and networks the runner's operator lists in git_allowed_networks`,
      };
    }
  }
  return { ok: true, host, port, addresses, scheme };
}

/**
 * `http.curloptResolve` entries that pin git's connections to the checked addresses.
 * IPv6 addresses are bracketed, as curl's `CURLOPT_RESOLVE` expects.
 */
export function pinnedResolve(check: HostCheck): string[] {
  if (!check.ok || check.host === null || check.scheme !== "https") return [];
  const addresses = check.addresses.map((a) => (net.isIPv6(a) ? `[${a}]` : a)).join(",");
  return [`${check.host}:${check.port}:${addresses}`];
}

function hostOf(url: string): { host: string; port: number; scheme: "https" | "ssh" } | null | "invalid" {
  const scpLike = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):/.exec(url);
  if (scpLike && !url.includes("://")) return { host: scpLike[1]!.toLowerCase(), port: 22, scheme: "ssh" };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "invalid";
  }
  if (parsed.protocol === "file:") return null;
  const host = parsed.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (!host) return "invalid";
  const scheme = parsed.protocol === "ssh:" ? "ssh" : "https";
  const port = parsed.port ? Number(parsed.port) : scheme === "ssh" ? 22 : 443;
  return { host, port, scheme };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`lookup timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
