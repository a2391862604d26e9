/**
 * Unit: the CIDR matcher behind per-key IP allowlists. Written-out cases for the forms people
 * type (and the typos they make), then properties over random addresses and random text.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cidrContains, ipAllowed, parseCidr, parseIp, type CidrRange } from "#api/cidr.js";

function range(text: string): CidrRange {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.reason}`);
  return parsed.range;
}

const hex = (bytes: Uint8Array | undefined) => (bytes ? Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("") : null);

describe("parseIp", () => {
  it.each([
    ["::", "00000000000000000000000000000000"],
    ["::1", "00000000000000000000000000000001"],
    ["1::", "00010000000000000000000000000000"],
    ["2001:db8::8a2e:370:7334", "20010db80000000000008a2e03707334"],
    ["2001:0DB8:0000:0000:0000:8A2E:0370:7334", "20010db80000000000008a2e03707334"],
    ["2001:db8:0:0:1::1", "20010db8000000000001000000000001"],
    ["1:2:3:4:5:6:7::", "00010002000300040005000600070000"],
    ["::2:3:4:5:6:7:8", "00000002000300040005000600070008"],
    ["::ffff:192.0.2.128", "00000000000000000000ffffc0000280"],
    ["64:ff9b::192.0.2.33", "0064ff9b0000000000000000c0000221"],
    ["192.0.2.128", "00000000000000000000ffffc0000280"],
    ["0.0.0.0", "00000000000000000000ffff00000000"],
    ["255.255.255.255", "00000000000000000000ffffffffffff"],
  ])("reads %s", (text, bytes) => {
    expect(hex(parseIp(text)?.bytes)).toBe(bytes);
  });

  it.each([
    "",
    " ",
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "01.2.3.4",
    "1.2.3.-4",
    "1.2.3.4 ",
    " 1.2.3.4",
    "1.2.3.0x4",
    ":::",
    "1:::2",
    "1::2::3",
    ":1::",
    "1::2:",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "12345::",
    "g::1",
    "fe80::1%eth0",
    "1.2.3.4::",
    "::1.2.3.4:5",
    "::ffff:256.0.0.1",
    "[::1]",
    "localhost",
    "1.2.3.4\n",
    "١.٢.٣.٤",
  ])("refuses %j", (text) => {
    expect(parseIp(text)).toBeNull();
  });
});

describe("parseCidr", () => {
  it("reads a bare address as that one address", () => {
    expect(range("203.0.113.7").prefix128).toBe(128);
    expect(range("2001:db8::1").prefix128).toBe(128);
  });

  it.each([
    ["10.0.0.1/8", "10.0.0.0/8"],
    ["2001:db8::1/32", "2001:db8:0:0:0:0:0:0/32"],
    ["192.168.1.1/24", "192.168.1.0/24"],
  ])("refuses %s (host bits set) and suggests %s", (text, suggestion) => {
    const parsed = parseCidr(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(suggestion);
  });

  it.each(["10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/08", "10.0.0.0/", "10.0.0.0/+8", "/8", "10.0.0.0/8/8", "10.0.0.0/8 ", "x/8"])(
    "refuses %j",
    (text) => {
      expect(parseCidr(text).ok).toBe(false);
    },
  );

  it("accepts /0 and full-length prefixes", () => {
    expect(range("0.0.0.0/0").prefix128).toBe(96);
    expect(range("::/0").prefix128).toBe(0);
    expect(range("10.1.2.3/32").prefix128).toBe(128);
    expect(range("2001:db8::1/128").prefix128).toBe(128);
  });
});

describe("matching", () => {
  it.each([
    ["10.0.0.0/8", "10.255.1.2", true],
    ["10.0.0.0/8", "11.0.0.1", false],
    ["10.0.0.0/8", "::ffff:10.9.8.7", true],
    ["10.0.0.0/8", "::ffff:a09:807", true],
    ["10.0.0.0/8", "::10.9.8.7", false],
    ["::ffff:10.0.0.0/104", "10.1.1.1", true],
    ["0.0.0.0/0", "198.51.100.1", true],
    ["0.0.0.0/0", "2001:db8::1", false],
    ["::/0", "2001:db8::1", true],
    ["::/0", "198.51.100.1", true],
    ["2001:db8::/32", "2001:DB8:ffff::1", true],
    ["2001:db8::/32", "2001:db9::1", false],
    ["2001:db8::1/128", "2001:db8:0:0:0:0:0:1", true],
    ["2001:db8::1/128", "2001:db8::2", false],
    ["203.0.113.7/32", "203.0.113.7", true],
    ["203.0.113.7/32", "203.0.113.8", false],
    ["192.168.0.0/23", "192.168.1.255", true],
    ["192.168.0.0/23", "192.168.2.0", false],
    ["2001:db8:8000::/33", "2001:db8:7fff::1", false],
    ["2001:db8:8000::/33", "2001:db8:8000::1", true],
  ])("%s contains %s: %s", (cidr, ip, expected) => {
    expect(cidrContains(range(cidr), parseIp(ip)!)).toBe(expected);
  });

  it("allows nothing for an address that does not parse, or none at all", () => {
    const everything = [range("0.0.0.0/0"), range("::/0")];
    expect(ipAllowed(everything, "1.2.3.4")).toBe(true);
    expect(ipAllowed(everything, " 1.2.3.4 ")).toBe(true);
    expect(ipAllowed(everything, "unknown")).toBe(false);
    expect(ipAllowed(everything, "")).toBe(false);
    expect(ipAllowed(everything, null)).toBe(false);
    expect(ipAllowed(everything, undefined)).toBe(false);
    expect(ipAllowed([], "1.2.3.4")).toBe(false);
  });
});

describe("properties", () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  const groups = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 });

  it("an IPv4 range built from any address and prefix contains that address, and only addresses sharing the prefix", () => {
    fc.assert(
      fc.property(v4, v4, fc.nat(32), (a, b, prefix) => {
        const n = ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
        const m = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        const net = (n & mask) >>> 0;
        const text = `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join(".")}/${prefix}`;
        const r = range(text);
        expect(cidrContains(r, parseIp(a.join("."))!)).toBe(true);
        expect(cidrContains(r, parseIp(b.join("."))!)).toBe((m & mask) >>> 0 === net);
        expect(cidrContains(r, parseIp(`::ffff:${a.join(".")}`)!)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("every way of writing an IPv6 address (full, unpadded, compressed, upper case) reads the same", () => {
    fc.assert(
      fc.property(groups, fc.nat(7), fc.nat(8), (g, start, length) => {
        const full = g.map((x) => x.toString(16).padStart(4, "0")).join(":");
        const short = g.map((x) => x.toString(16)).join(":");
        // Compress a run of groups (set to zero) with "::".
        const end = Math.min(8, start + Math.max(1, length));
        const zeroed = g.map((x, i) => (i >= start && i < end ? 0 : x));
        const compressed = `${zeroed
          .slice(0, start)
          .map((x) => x.toString(16))
          .join(":")}::${zeroed
          .slice(end)
          .map((x) => x.toString(16))
          .join(":")}`;
        const zeroedFull = zeroed.map((x) => x.toString(16)).join(":");
        expect(hex(parseIp(full)?.bytes)).toBe(hex(parseIp(short)?.bytes));
        expect(hex(parseIp(full.toUpperCase())?.bytes)).toBe(hex(parseIp(full)?.bytes));
        expect(parseIp(compressed)).not.toBeNull();
        expect(hex(parseIp(compressed)?.bytes)).toBe(hex(parseIp(zeroedFull)?.bytes));
      }),
      { numRuns: 300 },
    );
  });

  it("/128 of any address contains it and nothing else; /0 contains everything", () => {
    fc.assert(
      fc.property(groups, groups, (a, b) => {
        const ta = a.map((x) => x.toString(16)).join(":");
        const tb = b.map((x) => x.toString(16)).join(":");
        expect(cidrContains(range(`${ta}/128`), parseIp(ta)!)).toBe(true);
        expect(cidrContains(range(`${ta}/128`), parseIp(tb)!)).toBe(ta === tb);
        expect(cidrContains(range("::/0"), parseIp(tb)!)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("never throws on arbitrary text, and never accepts text with characters no address has", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (text) => {
        const ip = parseIp(text);
        const cidr = parseCidr(text);
        if (/[^0-9a-fA-F:./]/.test(text)) {
          expect(ip).toBeNull();
          expect(cidr.ok).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});
