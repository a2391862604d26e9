// Unit: the one rule for which addresses are public, used for webhook hosts on the edge and
// for every address a repository host resolves to on the runner.
import { describe, expect, it } from "vitest";
import { nonPublicRange } from "#api/index.js";

describe("nonPublicRange", () => {
  it.each([
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "223.255.255.255",
    "2606:2800:220:1::1",
    "2001:4860:4860::8888",
    "2001:db9::1",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
  ])("lets the public address %s through", (address) => {
    expect(nonPublicRange(address)).toBeNull();
  });

  it.each([
    ["0.0.0.0", "unspecified, 'this network' (0.0.0.0/8)"],
    ["10.1.2.3", "private, RFC 1918 (10.0.0.0/8)"],
    ["100.64.0.1", "carrier-grade NAT (100.64.0.0/10)"],
    ["127.0.0.53", "loopback (127.0.0.0/8)"],
    ["169.254.169.254", "link-local, incl. cloud metadata (169.254.0.0/16)"],
    ["172.31.255.255", "private, RFC 1918 (172.16.0.0/12)"],
    ["192.168.1.1", "private, RFC 1918 (192.168.0.0/16)"],
    ["198.18.0.1", "benchmarking (198.18.0.0/15)"],
    ["203.0.113.9", "documentation (203.0.113.0/24)"],
    ["224.0.0.1", "multicast (224.0.0.0/4)"],
    ["255.255.255.255", "reserved or broadcast (240.0.0.0/4)"],
    ["::", "unspecified (::/128)"],
    ["::1", "loopback (::1/128)"],
    ["0:0:0:0:0:0:0:1", "loopback (::1/128)"],
    ["::127.0.0.1", "IPv4-compatible, deprecated (::/96)"],
    ["fd12::1", "unique-local (fc00::/7)"],
    ["fe80::1", "link-local (fe80::/10)"],
    ["fec0::1", "site-local (fec0::/10)"],
    ["ff02::1", "multicast (ff00::/8)"],
    ["100::1", "not global unicast (outside 2000::/3)"],
    ["2001:db8::1", "documentation (2001:db8::/32)"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo (2001::/32)"],
    ["2002:7f00:1::1", "6to4 (2002::/16)"],
    // IPv4 inside IPv6 reaches the IPv4 address, and is judged as that address.
    ["::ffff:127.0.0.1", "loopback (127.0.0.0/8)"],
    ["::ffff:a9fe:a9fe", "link-local, incl. cloud metadata (169.254.0.0/16)"],
    ["64:ff9b::a00:1", "private, RFC 1918 (10.0.0.0/8)"],
  ])("names the range of %s", (address, range) => {
    expect(nonPublicRange(address)).toBe(range);
  });

  it.each(["not-an-ip", "", "127.0.0.1 ", "fe80::1%eth0", "010.0.0.1", "1.2.3", "::ffff:1.2.3.256"])("refuses %j as not an IP address", (text) => {
    expect(nonPublicRange(text)).toBe("not an IP address");
  });
});
