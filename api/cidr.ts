/**
 * IP addresses and CIDR ranges, parsed strictly and compared as 128-bit numbers.
 *
 * An API key may be limited to a list of ranges; the edge checks the client's address
 * (`CF-Connecting-IP`) against it, and the contract validates the list when a key is made.
 * Every address is held in IPv6 form: an IPv4 address `a.b.c.d` is the IPv4-mapped
 * `::ffff:a.b.c.d`, and an IPv4 range `/n` is the mapped range `/96+n`. So `10.0.0.0/8`
 * matches `10.1.2.3` and `::ffff:10.1.2.3` alike, and `::/0` matches every client.
 *
 * Strict means: no leading zeros in IPv4 parts (`010` is octal to some parsers, decimal to
 * others), no zone ids, no host bits in a range (`10.0.0.1/8` is refused as a likely typo),
 * nothing around the text. A parser that guesses here lets a typo open a key to the world.
 * @module
 */

/** An address as 16 bytes, IPv4 in its IPv4-mapped IPv6 form. */
export interface IpAddress {
  version: 4 | 6;
  bytes: Uint8Array;
}

export interface CidrRange {
  /** The network address (host bits zero), 16 bytes. */
  network: Uint8Array;
  /** Prefix length over all 128 bits (an IPv4 `/24` is 120 here). */
  prefix128: number;
  /** As written by a person: `10.0.0.0/8`, `2001:db8::/32`. */
  text: string;
}

const IPV4_PART = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const PREFIX = /^(0|[1-9][0-9]{0,2})$/;

/** Parses dotted-quad IPv4 into 4 bytes, or null. */
function parseIpv4Bytes(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!IPV4_PART.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    bytes.push(n);
  }
  return bytes;
}

/** Parses IPv6 text (with `::` and an optional dotted IPv4 tail) into 16 bytes, or null. */
function parseIpv6Bytes(text: string): number[] | null {
  if (text.length === 0 || text.length > 45) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (half: string): number[] | null => {
    if (half === "") return [];
    const out: number[] = [];
    const pieces = half.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4Bytes(piece);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!HEX_GROUP.test(piece)) return null;
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return null;
  // A dotted tail is only allowed at the very end of the address.
  if (halves.length === 2 && halves[0]!.includes(".")) return null;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    // "::" stands for at least one group of zeros.
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** Parses an IPv4 or IPv6 address; null when `text` is anything else. */
export function parseIp(text: string): IpAddress | null {
  if (typeof text !== "string") return null;
  if (text.includes(":")) {
    const bytes = parseIpv6Bytes(text);
    return bytes ? { version: 6, bytes: Uint8Array.from(bytes) } : null;
  }
  const v4 = parseIpv4Bytes(text);
  return v4 ? { version: 4, bytes: Uint8Array.from([...V4_MAPPED_PREFIX, ...v4]) } : null;
}

/**
 * Parses `address/prefix` (or a bare address, meaning that one address). Returns the range,
 * or a reason a person can act on.
 */
export function parseCidr(text: string): { ok: true; range: CidrRange } | { ok: false; reason: string } {
  if (typeof text !== "string" || text.length === 0 || text.length > 49) return { ok: false, reason: "not a CIDR range" };
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? null : text.slice(slash + 1);
  const address = parseIp(addressText);
  if (!address) return { ok: false, reason: `${JSON.stringify(addressText)} is not an IPv4 or IPv6 address` };
  const maxPrefix = address.version === 4 ? 32 : 128;
  let prefix = maxPrefix;
  if (prefixText !== null) {
    if (!PREFIX.test(prefixText) || Number(prefixText) > maxPrefix) {
      return { ok: false, reason: `prefix must be a whole number from 0 to ${maxPrefix}` };
    }
    prefix = Number(prefixText);
  }
  const prefix128 = address.version === 4 ? 96 + prefix : prefix;
  const network = maskBytes(address.bytes, prefix128);
  if (!network.every((b, i) => b === address.bytes[i])) {
    return { ok: false, reason: `${text} has bits set after the prefix; did you mean ${formatNetwork(network, address.version, prefix)}?` };
  }
  return { ok: true, range: { network, prefix128, text } };
}

/** True when `ip` lies in `range`. */
export function cidrContains(range: CidrRange, ip: IpAddress): boolean {
  const masked = maskBytes(ip.bytes, range.prefix128);
  return masked.every((b, i) => b === range.network[i]);
}

/** True when the address text parses and lies in any of `ranges`; false for anything else. */
export function ipAllowed(ranges: readonly CidrRange[], ipText: string | null | undefined): boolean {
  const ip = ipText ? parseIp(ipText.trim()) : null;
  return ip !== null && ranges.some((range) => cidrContains(range, ip));
}

function maskBytes(bytes: Uint8Array, prefix128: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, prefix128 - i * 8));
    out[i] = bits === 0 ? 0 : bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function formatNetwork(network: Uint8Array, version: 4 | 6, prefix: number): string {
  if (version === 4) return `${Array.from(network.slice(12)).join(".")}/${prefix}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((network[i]! << 8) | network[i + 1]!).toString(16));
  return `${groups.join(":")}/${prefix}`;
}
