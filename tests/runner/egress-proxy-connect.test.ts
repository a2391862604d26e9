// Integration: CONNECT tunnels through the sandbox's egress proxy over real sockets — a real
// Unix socket, a TCP echo and an HTTPS origin (a certificate made at test time) on 127.0.0.1.
// Only name resolution is injected, mapping test host names to 127.0.0.1.
import { once } from "node:events";
import { existsSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import type { HostLookup } from "../../runner/src/git/repo-host-check.js";
import { freePort } from "../../scripts/local-stack.js";
import { connectThrough, hasOpenssl, LOOPBACK, raw, readAll, useEgressTestbed } from "./harness/egress-proxy.js";

const bed = useEgressTestbed({ tls: true });

describe("egress proxy: CONNECT tunnels", () => {
  it("tunnels bytes both ways for an allowed CONNECT, including an early first packet and a half-close", async () => {
    const { proxy, denials } = await bed.start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    const socket = net.connect(proxy.socketPath);
    // The first tunnelled bytes ride in the same packet as the CONNECT head.
    socket.write(`CONNECT api.test.example:${bed.echoPort} HTTP/1.1\r\nHost: api.test.example:${bed.echoPort}\r\n\r\nearly `);
    socket.end("and late");
    const text = await readAll(socket);
    expect(text).toBe("HTTP/1.1 200 Connection established\r\n\r\nearly and late");
    expect(denials).toEqual([]);
  });

  it("keeps what the client sends while the decision is still pending", async () => {
    const slow: HostLookup = () => new Promise((resolve) => setTimeout(() => resolve(["127.0.0.1"]), 100));
    const { proxy } = await bed.start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK, lookup: slow });
    const socket = net.connect(proxy.socketPath);
    socket.write(`CONNECT api.test.example:${bed.echoPort} HTTP/1.1\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    socket.write("sent before ");
    await new Promise((resolve) => setTimeout(resolve, 30));
    socket.end("the 200");
    expect(await readAll(socket)).toBe("HTTP/1.1 200 Connection established\r\n\r\nsent before the 200");
  });

  it.skipIf(!hasOpenssl())("carries TLS end to end through a CONNECT tunnel", async () => {
    const { proxy } = await bed.start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    const { socket, status } = await connectThrough(proxy.socketPath, `api.test.example:${bed.tlsOrigin!.port}`);
    expect(status).toBe(200);
    const secure = tls.connect({ socket, servername: "api.test.example", ca: bed.tlsOrigin!.ca });
    secure.end("GET /secret HTTP/1.1\r\nHost: api.test.example\r\nConnection: close\r\n\r\n");
    const text = await readAll(secure);
    expect(secure.authorized).toBe(true);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(text).toContain("tls says /secret");
  });

  it("answers 502 when the checked address refuses the connection, and 504 when resolving takes too long", async () => {
    const closedPort = await freePort();
    const slow: HostLookup = () => new Promise(() => {});
    const { proxy } = await bed.start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK, connectTimeoutMs: 200 });
    const refused = await raw(proxy.socketPath, `CONNECT api.test.example:${closedPort} HTTP/1.1\r\n\r\n`);
    expect(refused).toMatch(/^HTTP\/1\.1 502 /);
    expect(refused).toContain("ECONNREFUSED");
    const other = await bed.start({ pool: ["slow.test.example"], lookup: slow, connectTimeoutMs: 200 });
    expect(await raw(other.proxy.socketPath, "CONNECT slow.test.example:443 HTTP/1.1\r\n\r\n")).toMatch(/^HTTP\/1\.1 504 /);
  });

  it("close() ends open tunnels and removes the socket file", async () => {
    const { proxy } = await bed.start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    expect(existsSync(proxy.socketPath)).toBe(true);
    const { socket } = await connectThrough(proxy.socketPath, `api.test.example:${bed.echoPort}`);
    const closed = once(socket, "close");
    await proxy.close();
    await closed;
    expect(existsSync(proxy.socketPath)).toBe(false);
  });
});
