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
 * way around the rules. IPv6 is an allowlist (global unicast `2000::/3` only, minus the
 * documentation, Teredo and 6to4 ranges, which embed or stand for other addresses); IPv4 is a
 * denylist of every range that is not publicly routable.
 *
 * What a check on the URL cannot see is where a public name resolves. On Cloudflare that is
 * bounded by the platform (a Worker's `fetch` does not reach private networks); names known
 * to resolve to loopback for everyone (`localtest.me`, `*.nip.io` …) are refused here too.
 * @module
 */

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

/** IPv4 ranges that are not publicly routable: [network, prefix length, what it is]. */
const BLOCKED_IPV4: readonly [string, number, string][] = [
  ["0.0.0.0", 8, "'this network' (0.0.0.0/8)"],
  ["10.0.0.0", 8, "private (10.0.0.0/8)"],
  ["100.64.0.0", 10, "carrier-grade NAT (100.64.0.0/10)"],
  ["127.0.0.0", 8, "loopback (127.0.0.0/8)"],
  ["169.254.0.0", 16, "link-local, incl. cloud metadata (169.254.0.0/16)"],
  ["172.16.0.0", 12, "private (172.16.0.0/12)"],
  ["192.0.0.0", 24, "IETF protocol assignments (192.0.0.0/24)"],
  ["192.0.2.0", 24, "documentation (192.0.2.0/24)"],
  ["192.88.99.0", 24, "6to4 relay (192.88.99.0/24)"],
  ["192.168.0.0", 16, "private (192.168.0.0/16)"],
  ["198.18.0.0", 15, "benchmarking (198.18.0.0/15)"],
  ["198.51.100.0", 24, "documentation (198.51.100.0/24)"],
  ["203.0.113.0", 24, "documentation (203.0.113.0/24)"],
  ["224.0.0.0", 4, "multicast (224.0.0.0/4)"],
  ["240.0.0.0", 4, "reserved or broadcast (240.0.0.0/4)"],
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
  if (hostname.startsWith("[")) {
    const bytes = parseIpv6(hostname.slice(1, -1));
    return bytes ? refusedIpv6(bytes) : "not a valid IPv6 address";
  }
  const v4 = parseIpv4(hostname);
  if (v4 !== null) return refusedIpv4(v4);
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

/** Dotted-quad IPv4 (the parser's normal form) as a 32-bit number, or null. */
function parseIpv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function refusedIpv4(address: number): string | null {
  for (const [network, prefix, why] of BLOCKED_IPV4) {
    const size = 2 ** (32 - prefix);
    const start = parseIpv4(network)!;
    if (address >= start && address < start + size) return `a ${why} address`;
  }
  return null;
}

/** IPv6 text (with `::`, optionally a dotted IPv4 tail) as 16 bytes, or null. */
function parseIpv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2 || text.includes("%")) return null;
  const groups = (half: string): number[] | null => {
    if (half === "") return [];
    const out: number[] = [];
    const pieces = half.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (v4 === null) return null;
        out.push(Math.floor(v4 / 65_536), v4 % 65_536);
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

function refusedIpv6(b: number[]): string | null {
  const v4At = (i: number) => ((b[i]! * 256 + b[i + 1]!) * 256 + b[i + 2]!) * 256 + b[i + 3]!;
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) {
    // IPv4-mapped (::ffff:a.b.c.d): the edge would connect to the IPv4 address.
    return refusedIpv4(v4At(12)) ?? "an IPv4-mapped IPv6 address (use the IPv4 address itself)";
  }
  if (zeros(0, 16)) return "the unspecified address (::)";
  if (zeros(0, 15) && b[15] === 1) return "loopback (::1)";
  if (zeros(0, 12)) return "an IPv4-compatible IPv6 address (::/96, deprecated)";
  if (b[0] === 0xff) return "a multicast (ff00::/8) address";
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return "a link-local (fe80::/10) address";
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return "a site-local (fec0::/10) address";
  if ((b[0]! & 0xfe) === 0xfc) return "a unique-local (fc00::/7, incl. fd00::/8) address";
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) return "a NAT64 (64:ff9b::/96) address";
  if ((b[0]! & 0xe0) !== 0x20) return "not a global unicast (2000::/3) address";
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return "a documentation (2001:db8::/32) address";
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x00 && b[3] === 0x00) return "a Teredo (2001::/32) address";
  if (b[0] === 0x20 && b[1] === 0x02) return "a 6to4 (2002::/16) address";
  return null;
}
