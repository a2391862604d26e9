// Integration: the egress proxy's policy over real sockets — hosts outside the pool's or the
// task's list, names that resolve to non-public addresses, address literals, ports the pattern
// does not name — each refused with 403 and reported once. Only name resolution is injected.
import { describe, expect, it } from "vitest";
import { counting, get, LOOPBACK, raw, useEgressTestbed } from "./harness/egress-proxy.js";

const bed = useEgressTestbed();

describe("egress proxy: policy", () => {
  it("refuses a host outside the policy with 403 and reports it once", async () => {
    const { proxy, denials } = await bed.start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    const res = await get(proxy.socketPath, `http://other.test.example:${bed.webPort}/`);
    expect(res.status).toBe(403);
    expect(res.body).toBe(`egress to other.test.example:${bed.webPort} refused: not in the egress policy\n`);
    expect(denials).toEqual([{ host: "other.test.example", port: bed.webPort, reason: "not in the egress policy" }]);

    const connect = await raw(proxy.socketPath, `CONNECT other.test.example:443 HTTP/1.1\r\n\r\n`);
    expect(connect).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(connect).toContain("other.test.example:443 refused: not in the egress policy");
    expect(denials).toHaveLength(2);
  });

  it("lets a task's list narrow its pool's policy", async () => {
    const { proxy, denials } = await bed.start({ pool: ["*.test.example:*"], task: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    expect((await get(proxy.socketPath, `http://api.test.example:${bed.webPort}/`)).status).toBe(200);
    const res = await get(proxy.socketPath, `http://cdn.test.example:${bed.webPort}/`);
    expect(res.status).toBe(403);
    expect(denials.map((d) => d.host)).toEqual(["cdn.test.example"]);
  });

  it("refuses a name that resolves to loopback unless the operator allowed that network", async () => {
    const { proxy, denials } = await bed.start({ pool: ["api.test.example:*"] });
    const res = await get(proxy.socketPath, `http://api.test.example:${bed.webPort}/`);
    expect(res.status).toBe(403);
    expect(denials).toEqual([{ host: "api.test.example", port: bed.webPort, reason: "resolves to 127.0.0.1, a non-public address: loopback (127.0.0.0/8)" }]);
  });

  it("refuses a name when any one of its addresses is non-public", async () => {
    const lookup = counting({ "api.test.example": ["93.184.216.34", "10.0.0.5"] });
    const { proxy, denials } = await bed.start({ pool: ["api.test.example"], lookup });
    const text = await raw(proxy.socketPath, "CONNECT api.test.example:443 HTTP/1.1\r\n\r\n");
    expect(text).toMatch(/^HTTP\/1\.1 403/);
    expect(denials[0]!.reason).toBe("resolves to 10.0.0.5, a non-public address: private, RFC 1918 (10.0.0.0/8)");
  });

  it("refuses the cloud metadata address given as a literal", async () => {
    const lookup = counting({});
    const { proxy, denials } = await bed.start({ pool: ["*.test.example:*"], allowedNetworks: LOOPBACK, lookup });
    const res = await get(proxy.socketPath, "http://169.254.169.254/latest/meta-data/iam/security-credentials/");
    expect(res.status).toBe(403);
    expect(denials).toEqual([{ host: "169.254.169.254", port: 80, reason: "a non-public address: link-local, incl. cloud metadata (169.254.0.0/16)" }]);
    // Even an address the operator allowed is no host name, so no pattern matches it.
    const literal = await raw(proxy.socketPath, `CONNECT 127.0.0.1:${bed.echoPort} HTTP/1.1\r\n\r\n`);
    expect(literal).toMatch(/^HTTP\/1\.1 403/);
    expect(denials[1]!.reason).toBe("not in the egress policy (it names hosts, not IP addresses)");
    expect(lookup.calls).toEqual([]);
  });

  it("refuses a port the pattern does not name (no port: 443 and 80 only)", async () => {
    const { proxy, denials } = await bed.start({ pool: ["api.test.example"], allowedNetworks: LOOPBACK });
    const text = await raw(proxy.socketPath, "CONNECT api.test.example:22 HTTP/1.1\r\n\r\n");
    expect(text).toMatch(/^HTTP\/1\.1 403/);
    expect(denials).toEqual([{ host: "api.test.example", port: 22, reason: "not in the egress policy" }]);
  });
});
