/**
 * Which callback URLs the edge will send webhooks to.
 *
 * A callback URL is an address a client asks the edge to fetch, so it is a request-forgery
 * (SSRF) vector: without a check, a task could make the edge post to a cloud metadata
 * service, a loopback admin port or a private network. The edge checks at submission (so the
 * client hears a clear 400 at once) and again before every attempt (the operator's policy may
 * have changed since).
 *
 * The host is judged in the form the WHATWG URL parser gives it, which is also what `fetch`
 * uses: `0x7f.1`, `2130706433`, `0177.0.0.1` and `127.1` all arrive here as `127.0.0.1`, and
 * `[::ffff:127.0.0.1]` as `[::ffff:7f00:1]`. So alternative spellings of an address are not a
 * way around the rules. Which addresses are public is decided in `public-address.ts`, the rule
 * the runner applies to repository hosts too.
 *
 * What a check on the URL cannot see is where a public name resolves. On Cloudflare that is
 * bounded by the platform (a Worker's `fetch` does not reach private networks); names known
 * to resolve to loopback for everyone (`localtest.me`, `*.nip.io` …) are refused here too.
 * @module
 */
import { parseIp } from "./cidr.js";
import { nonPublicRange } from "./public-address.js";

export interface CallbackUrlPolicy {
  /**
   * Development and tests only: accept `http:` and loopback, private and link-local hosts.
   * Credentials in the URL and schemes other than http(s) are refused even then.
   */
  allowLocal: boolean;
}

export type CallbackUrlCheck = { ok: true; url: string } | { ok: false; reason: string };

/** Long enough for any real endpoint with a query-string token; short enough to log and store. */
export const CALLBACK_URL_MAX_CHARS = 2_048;

// The URL parser silently drops tabs and newlines and trims spaces; refuse them instead, so
// the URL stored and shown is the URL the client wrote.
const UNSAFE_CHARS = /[\s\x00-\x1f\x7f\\]/;

/** Names that mean "this machine", a private network or a metadata service. */
const BLOCKED_NAMES = new Set([
  "localhost",
  "ip6-localhost",
  "ip6-loopback",
  "metadata",
  "metadata.google.internal",
  "instance-data",
  "localtest.me",
  "lvh.me",
]);

/** Suffixes of names that never denote a public endpoint, or resolve to loopback for everyone. */
const BLOCKED_SUFFIXES = [
  ".localhost",
  ".local",
  ".localdomain",
  ".internal",
  ".intranet",
  ".lan",
  ".home.arpa",
  ".localtest.me",
  ".lvh.me",
  ".nip.io",
  ".sslip.io",
  ".xip.io",
];

/**
 * Checks a callback URL under `policy`. On success `url` is the normalized URL (as `fetch`
 * will use it); on failure `reason` says what to change, in words a client can act on.
 */
export function checkCallbackUrl(text: string, policy: CallbackUrlPolicy): CallbackUrlCheck {
  if (text.length === 0) return { ok: false, reason: "callback_url is empty" };
  if (text.length > CALLBACK_URL_MAX_CHARS) return { ok: false, reason: `callback_url is longer than ${CALLBACK_URL_MAX_CHARS} characters` };
  if (UNSAFE_CHARS.test(text)) return { ok: false, reason: "callback_url contains whitespace, backslashes or control characters" };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: "callback_url is not a valid absolute URL (https://host/path)" };
  }
  if (url.protocol !== "https:" && !(policy.allowLocal && url.protocol === "http:")) {
    return { ok: false, reason: `callback_url must use https (got ${url.protocol.replace(/:$/, "")})` };
  }
  if (url.username || url.password) return { ok: false, reason: "callback_url must not contain credentials (user:password@)" };
  if (!url.hostname) return { ok: false, reason: "callback_url has no host" };
  if (!policy.allowLocal) {
    const refused = refusedHost(url.hostname);
    if (refused) return { ok: false, reason: `callback_url host ${url.hostname} is ${refused}; webhooks go to public addresses only` };
  }
  return { ok: true, url: url.href };
}

/** Why a host (as the URL parser normalized it) is not a public address, or null when it is. */
export function refusedHost(hostname: string): string | null {
  const bracketed = hostname.startsWith("[");
  const ip = parseIp(bracketed ? hostname.slice(1, -1) : hostname);
  if (ip && ip.version === (bracketed ? 6 : 4)) {
    const range = nonPublicRange(ip);
    return range ? `a non-public address: ${range}` : null;
  }
  if (bracketed) return "not a valid IPv6 address";
  // A trailing dot names the same host ("localhost." is localhost).
  const name = hostname.replace(/\.+$/, "");
  if (BLOCKED_NAMES.has(name) || BLOCKED_SUFFIXES.some((suffix) => name.endsWith(suffix))) {
    return "a local, private or metadata host name";
  }
  // Single-label names resolve through search domains, i.e. to hosts on the edge's own network.
  if (!name.includes(".")) return "a single-label (intranet) host name";
  // The URL parser turns every numeric IPv4 spelling into dotted form; a name that still ends
  // in a number is an address form it did not take (and no public suffix is numeric).
  if (/\.\d+$/.test(name)) return "not a valid host name";
  return null;
}
