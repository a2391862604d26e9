/**
 * Which IP addresses a repository host must not resolve to.
 *
 * A task names its repository, and the runner's git then connects wherever that name points.
 * Pointed at the runner's own network — its loopback services, the cloud metadata endpoint
 * that hands out instance credentials (169.254.169.254), a database on the private subnet —
 * a task could use git as a probe or fetch internal data into its workspace (server-side
 * request forgery). So every address a host resolves to must be a public one.
 * @module
 */
import net from "node:net";

/** Ranges refused, with the name shown in the refusal. */
const REFUSED_RANGES: readonly { cidr: string; name: string }[] = [
  { cidr: "0.0.0.0/8", name: "unspecified" },
  { cidr: "10.0.0.0/8", name: "private (RFC 1918)" },
  { cidr: "100.64.0.0/10", name: "carrier-grade NAT" },
  { cidr: "127.0.0.0/8", name: "loopback" },
  { cidr: "169.254.0.0/16", name: "link-local (cloud metadata)" },
  { cidr: "172.16.0.0/12", name: "private (RFC 1918)" },
  { cidr: "192.0.0.0/24", name: "IETF protocol assignments" },
  { cidr: "192.168.0.0/16", name: "private (RFC 1918)" },
  { cidr: "198.18.0.0/15", name: "benchmarking" },
  { cidr: "224.0.0.0/4", name: "multicast" },
  { cidr: "240.0.0.0/4", name: "reserved" },
  { cidr: "::/128", name: "unspecified" },
  { cidr: "::1/128", name: "loopback" },
  { cidr: "fc00::/7", name: "unique local" },
  { cidr: "fe80::/10", name: "link-local" },
  { cidr: "ff00::/8", name: "multicast" },
  // IPv4 embedded in IPv6 through NAT64 reaches the same IPv4 hosts; judged by the v4 part below.
];

const blockList = new net.BlockList();
for (const { cidr } of REFUSED_RANGES) {
  const [address, prefix] = cidr.split("/") as [string, string];
  blockList.addSubnet(address, Number(prefix), net.isIPv6(address) ? "ipv6" : "ipv4");
}

/**
 * The name of the refused range `address` is in, or null for a public address. IPv4-mapped
 * (`::ffff:127.0.0.1`) and NAT64 (`64:ff9b::7f00:1`) forms are judged by their IPv4 address.
 * Anything that is not an IP address at all is refused.
 */
export function refusedRange(address: string): string | null {
  const family = net.isIP(address);
  if (family === 0) return "not an IP address";
  const v4 = family === 6 ? embeddedIPv4(address) : address;
  if (v4 !== null) {
    const hit = REFUSED_RANGES.find(({ cidr }) => !cidr.includes(":") && inSubnet(v4, cidr, "ipv4"));
    return hit ? `${hit.name} ${hit.cidr}` : null;
  }
  if (!blockList.check(address, "ipv6")) return null;
  const hit = REFUSED_RANGES.find(({ cidr }) => cidr.includes(":") && inSubnet(address, cidr, "ipv6"));
  return hit ? `${hit.name} ${hit.cidr}` : "reserved";
}

function inSubnet(address: string, cidr: string, family: "ipv4" | "ipv6"): boolean {
  const [base, prefix] = cidr.split("/") as [string, string];
  const list = new net.BlockList();
  list.addSubnet(base, Number(prefix), family);
  return list.check(address, family);
}

/** The IPv4 address inside an IPv4-mapped or NAT64 IPv6 address, or null. */
function embeddedIPv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return null;
  const high = parseInt(hex[1]!, 16);
  const low = parseInt(hex[2]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}
