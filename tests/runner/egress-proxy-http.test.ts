// Integration: plain-http requests through the sandbox's egress proxy over real sockets — a
// real Unix socket and an HTTP origin on 127.0.0.1 — forwarded without hop-by-hop headers, and
// malformed or oversized requests answered with a 4xx. Only name resolution is injected.
import net from "node:net";
import { describe, expect, it } from "vitest";
import { counting, get, LOOPBACK, raw, useEgressTestbed } from "./harness/egress-proxy.js";

const bed = useEgressTestbed();

describe("egress proxy: plain http", () => {
  it("forwards an allowed absolute-form GET and drops hop-by-hop headers both ways", async () => {
    const lookup = counting({ "api.test.example": ["127.0.0.1"] });
    const { proxy } = await bed.start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK, lookup });
    const res = await get(proxy.socketPath, `http://api.test.example:${bed.webPort}/v1/models?x=1`, {
      "proxy-authorization": "Basic c2VjcmV0",
      connection: "keep-alive, x-private",
      "x-private": "hop only",
      "x-end-to-end": "kept",
    });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body) as { method: string; url: string; headers: Record<string, string> };
    expect(seen.method).toBe("GET");
    expect(seen.url).toBe("/v1/models?x=1");
    expect(seen.headers.host).toBe(`api.test.example:${bed.webPort}`);
    expect(seen.headers["x-end-to-end"]).toBe("kept");
    expect(seen.headers["proxy-authorization"]).toBeUndefined();
    expect(seen.headers["x-private"]).toBeUndefined();
    expect(res.headers["x-origin"]).toBe("yes");
    expect(res.headers["x-hop"]).toBeUndefined();
    // The proxy may say Keep-Alive for its own hop; the origin's hop settings stay behind.
    expect(res.headers["keep-alive"]).not.toBe("timeout=99");
    // Resolved once, connected to that answer: no second lookup for the connection.
    expect(lookup.calls).toEqual(["api.test.example"]);
  });

  it("answers 400 to malformed requests, 431 to oversized headers, and keeps serving", async () => {
    const { proxy, denials } = await bed.start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    expect(await raw(proxy.socketPath, "HELLO THERE\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(proxy.socketPath, "GET /v1/models HTTP/1.1\r\nHost: api.test.example\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(proxy.socketPath, "CONNECT api.test.example HTTP/1.1\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(proxy.socketPath, "CONNECT api.test.example:99999 HTTP/1.1\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(proxy.socketPath, `GET https://api.test.example/ HTTP/1.1\r\nHost: api.test.example\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400 /);
    const huge = `GET http://api.test.example:${bed.webPort}/ HTTP/1.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`;
    expect(await raw(proxy.socketPath, huge)).toMatch(/^HTTP\/1\.1 431 /);
    // A client that vanishes mid-request.
    const quitter = net.connect(proxy.socketPath);
    quitter.write("CONNECT api.test.example:");
    quitter.destroy();
    expect(denials).toEqual([]);
    expect((await get(proxy.socketPath, `http://api.test.example:${bed.webPort}/still`)).status).toBe(200);
  });
});
