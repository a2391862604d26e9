// Integration: the sandbox's egress proxy and its in-sandbox bridge over real sockets — a real
// Unix socket, real origin servers on 127.0.0.1 (TCP echo, HTTP, HTTPS with a certificate made
// at test time), and `runner/bin/sandbox-init.mjs` as a real child process. Only name
// resolution is injected, mapping test host names to 127.0.0.1.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseCidr, type CidrRange } from "#api/index.js";
import type { HostLookup } from "../../runner/src/git/repo-host-check.js";
import { freePort } from "../../scripts/local-stack.js";
import { startEgressProxy, type EgressDenial, type EgressProxy, type EgressProxyOptions } from "../../runner/src/sandbox/egress-proxy.js";

const SANDBOX_INIT = fileURLToPath(new URL("../../runner/bin/sandbox-init.mjs", import.meta.url));
const LOOPBACK: CidrRange[] = [cidr("127.0.0.1/32")];

let dir: string;
let echo: net.Server;
let echoPort: number;
let web: http.Server;
let webPort: number;
let tlsOrigin: { server: https.Server; port: number; ca: string } | null = null;
const proxies: EgressProxy[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "cf-egress-"));
  echo = net.createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
  echoPort = await listen(echo);
  web = http.createServer((req, res) => {
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(200, {
      "content-type": "application/json",
      "x-origin": "yes",
      "keep-alive": "timeout=99",
      connection: "keep-alive, x-hop",
      "x-hop": "drop me",
    });
    res.end(body);
  });
  webPort = await listen(web);
  tlsOrigin = await startTlsOrigin();
});

afterAll(async () => {
  echo.close();
  web.close();
  tlsOrigin?.server.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

describe("egress proxy", () => {
  it("tunnels bytes both ways for an allowed CONNECT, including an early first packet and a half-close", async () => {
    const { proxy, denials } = await start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    const socket = net.connect(proxy.socketPath);
    // The first tunnelled bytes ride in the same packet as the CONNECT head.
    socket.write(`CONNECT api.test.example:${echoPort} HTTP/1.1\r\nHost: api.test.example:${echoPort}\r\n\r\nearly `);
    socket.end("and late");
    const text = await readAll(socket);
    expect(text).toBe("HTTP/1.1 200 Connection established\r\n\r\nearly and late");
    expect(denials).toEqual([]);
  });

  it("keeps what the client sends while the decision is still pending", async () => {
    const slow: HostLookup = () => new Promise((resolve) => setTimeout(() => resolve(["127.0.0.1"]), 100));
    const { proxy } = await start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK, lookup: slow });
    const socket = net.connect(proxy.socketPath);
    socket.write(`CONNECT api.test.example:${echoPort} HTTP/1.1\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 30));
    socket.write("sent before ");
    await new Promise((resolve) => setTimeout(resolve, 30));
    socket.end("the 200");
    expect(await readAll(socket)).toBe("HTTP/1.1 200 Connection established\r\n\r\nsent before the 200");
  });

  it.skipIf(!hasOpenssl())("carries TLS end to end through a CONNECT tunnel", async () => {
    const { proxy } = await start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    const { socket, status } = await connectThrough(proxy.socketPath, `api.test.example:${tlsOrigin!.port}`);
    expect(status).toBe(200);
    const secure = tls.connect({ socket, servername: "api.test.example", ca: tlsOrigin!.ca });
    secure.end("GET /secret HTTP/1.1\r\nHost: api.test.example\r\nConnection: close\r\n\r\n");
    const text = await readAll(secure);
    expect(secure.authorized).toBe(true);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(text).toContain("tls says /secret");
  });

  it("forwards an allowed absolute-form GET and drops hop-by-hop headers both ways", async () => {
    const lookup = counting({ "api.test.example": ["127.0.0.1"] });
    const { proxy } = await start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK, lookup });
    const res = await get(proxy.socketPath, `http://api.test.example:${webPort}/v1/models?x=1`, {
      "proxy-authorization": "Basic c2VjcmV0",
      connection: "keep-alive, x-private",
      "x-private": "hop only",
      "x-end-to-end": "kept",
    });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body) as { method: string; url: string; headers: Record<string, string> };
    expect(seen.method).toBe("GET");
    expect(seen.url).toBe("/v1/models?x=1");
    expect(seen.headers.host).toBe(`api.test.example:${webPort}`);
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

  it("refuses a host outside the policy with 403 and reports it once", async () => {
    const { proxy, denials } = await start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    const res = await get(proxy.socketPath, `http://other.test.example:${webPort}/`);
    expect(res.status).toBe(403);
    expect(res.body).toBe(`egress to other.test.example:${webPort} refused: not in the egress policy\n`);
    expect(denials).toEqual([{ host: "other.test.example", port: webPort, reason: "not in the egress policy" }]);

    const connect = await raw(proxy.socketPath, `CONNECT other.test.example:443 HTTP/1.1\r\n\r\n`);
    expect(connect).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(connect).toContain("other.test.example:443 refused: not in the egress policy");
    expect(denials).toHaveLength(2);
  });

  it("lets a task's list narrow its pool's policy", async () => {
    const { proxy, denials } = await start({ pool: ["*.test.example:*"], task: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    expect((await get(proxy.socketPath, `http://api.test.example:${webPort}/`)).status).toBe(200);
    const res = await get(proxy.socketPath, `http://cdn.test.example:${webPort}/`);
    expect(res.status).toBe(403);
    expect(denials.map((d) => d.host)).toEqual(["cdn.test.example"]);
  });

  it("refuses a name that resolves to loopback unless the operator allowed that network", async () => {
    const { proxy, denials } = await start({ pool: ["api.test.example:*"] });
    const res = await get(proxy.socketPath, `http://api.test.example:${webPort}/`);
    expect(res.status).toBe(403);
    expect(denials).toEqual([{ host: "api.test.example", port: webPort, reason: "resolves to 127.0.0.1, a non-public address: loopback (127.0.0.0/8)" }]);
  });

  it("refuses a name when any one of its addresses is non-public", async () => {
    const lookup = counting({ "api.test.example": ["93.184.216.34", "10.0.0.5"] });
    const { proxy, denials } = await start({ pool: ["api.test.example"], lookup });
    const text = await raw(proxy.socketPath, "CONNECT api.test.example:443 HTTP/1.1\r\n\r\n");
    expect(text).toMatch(/^HTTP\/1\.1 403/);
    expect(denials[0]!.reason).toBe("resolves to 10.0.0.5, a non-public address: private, RFC 1918 (10.0.0.0/8)");
  });

  it("refuses the cloud metadata address given as a literal", async () => {
    const lookup = counting({});
    const { proxy, denials } = await start({ pool: ["*.test.example:*"], allowedNetworks: LOOPBACK, lookup });
    const res = await get(proxy.socketPath, "http://169.254.169.254/latest/meta-data/iam/security-credentials/");
    expect(res.status).toBe(403);
    expect(denials).toEqual([{ host: "169.254.169.254", port: 80, reason: "a non-public address: link-local, incl. cloud metadata (169.254.0.0/16)" }]);
    // Even an address the operator allowed is no host name, so no pattern matches it.
    const literal = await raw(proxy.socketPath, `CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\n\r\n`);
    expect(literal).toMatch(/^HTTP\/1\.1 403/);
    expect(denials[1]!.reason).toBe("not in the egress policy (it names hosts, not IP addresses)");
    expect(lookup.calls).toEqual([]);
  });

  it("refuses a port the pattern does not name (no port: 443 and 80 only)", async () => {
    const { proxy, denials } = await start({ pool: ["api.test.example"], allowedNetworks: LOOPBACK });
    const text = await raw(proxy.socketPath, "CONNECT api.test.example:22 HTTP/1.1\r\n\r\n");
    expect(text).toMatch(/^HTTP\/1\.1 403/);
    expect(denials).toEqual([{ host: "api.test.example", port: 22, reason: "not in the egress policy" }]);
  });

  it("answers 400 to malformed requests, 431 to oversized headers, and keeps serving", async () => {
    const { proxy, denials } = await start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    expect(await raw(proxy.socketPath, "HELLO THERE\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(proxy.socketPath, "GET /v1/models HTTP/1.1\r\nHost: api.test.example\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(proxy.socketPath, "CONNECT api.test.example HTTP/1.1\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(proxy.socketPath, "CONNECT api.test.example:99999 HTTP/1.1\r\n\r\n")).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(proxy.socketPath, `GET https://api.test.example/ HTTP/1.1\r\nHost: api.test.example\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400 /);
    const huge = `GET http://api.test.example:${webPort}/ HTTP/1.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`;
    expect(await raw(proxy.socketPath, huge)).toMatch(/^HTTP\/1\.1 431 /);
    // A client that vanishes mid-request.
    const quitter = net.connect(proxy.socketPath);
    quitter.write("CONNECT api.test.example:");
    quitter.destroy();
    expect(denials).toEqual([]);
    expect((await get(proxy.socketPath, `http://api.test.example:${webPort}/still`)).status).toBe(200);
  });

  it("answers 502 when the checked address refuses the connection, and 504 when resolving takes too long", async () => {
    const closedPort = await freePort();
    const slow: HostLookup = () => new Promise(() => {});
    const { proxy } = await start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK, connectTimeoutMs: 200 });
    const refused = await raw(proxy.socketPath, `CONNECT api.test.example:${closedPort} HTTP/1.1\r\n\r\n`);
    expect(refused).toMatch(/^HTTP\/1\.1 502 /);
    expect(refused).toContain("ECONNREFUSED");
    const other = await start({ pool: ["slow.test.example"], lookup: slow, connectTimeoutMs: 200 });
    expect(await raw(other.proxy.socketPath, "CONNECT slow.test.example:443 HTTP/1.1\r\n\r\n")).toMatch(/^HTTP\/1\.1 504 /);
  });

  it("close() ends open tunnels and removes the socket file", async () => {
    const { proxy } = await start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    expect(existsSync(proxy.socketPath)).toBe(true);
    const { socket } = await connectThrough(proxy.socketPath, `api.test.example:${echoPort}`);
    const closed = once(socket, "close");
    await proxy.close();
    await closed;
    expect(existsSync(proxy.socketPath)).toBe(false);
  });
});

describe("sandbox-init bridge", () => {
  it("bridges a loopback port to the proxy's Unix socket for the command it runs", async () => {
    const { proxy } = await start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    const port = await freePort();
    const client = `
      const req = require("http").request({ host: "127.0.0.1", port: ${port}, path: "http://api.test.example:${webPort}/through" }, (res) => {
        let body = ""; res.on("data", (d) => (body += d)); res.on("end", () => console.log(res.statusCode, JSON.parse(body).url));
      });
      req.end();`;
    const run = await runInit(proxy.socketPath, port, [process.execPath, "-e", client]);
    expect(run).toMatchObject({ code: 0, stdout: "200 /through\n" });
  });

  it("exits with the command's code", async () => {
    expect((await runInit(path.join(dir, "none.sock"), await freePort(), ["sh", "-c", "exit 3"])).code).toBe(3);
  });

  it("exits 128 + the signal when a signal killed the command", async () => {
    expect((await runInit(path.join(dir, "none.sock"), await freePort(), ["sh", "-c", "kill -KILL $$"])).code).toBe(137);
  });

  it("exits 127 with one line on stderr when the command cannot be started", async () => {
    const run = await runInit(path.join(dir, "none.sock"), await freePort(), ["/nonexistent/cli", "-p"]);
    expect(run).toMatchObject({ code: 127, stderr: "sandbox-init: cannot start /nonexistent/cli: ENOENT\n" });
  });

  it("outlives SIGTERM to the process group and keeps bridging while the command shuts down", async () => {
    const socketPath = path.join(dir, "echo.sock");
    const unixEcho = net.createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => unixEcho.listen(socketPath, resolve));
    const port = await freePort();
    // On SIGTERM it waits, then uses the bridge once more, and only then exits 0.
    const cli = `
      process.on("SIGTERM", () => setTimeout(() => {
        const s = require("net").connect(${port}, "127.0.0.1");
        let got = ""; s.on("data", (d) => (got += d));
        s.on("close", () => { console.log("echo: " + got); process.exit(0); });
        s.end("goodbye");
      }, 100));
      console.log("ready");
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, [SANDBOX_INIT, "--proxy-socket", socketPath, "--listen", String(port), "--", process.execPath, "-e", cli], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    while (!stdout.includes("ready")) await once(child.stdout, "data");
    process.kill(-child.pid!, "SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    unixEcho.close();
    expect(code).toBe(0);
    expect(stdout).toBe("ready\necho: goodbye\n");
  });

  it("with --wait-fd, starts the command only on the runner's word, and never when the pipe closes without one", async () => {
    const marker = path.join(dir, `started-${Date.now()}`);
    const launch = async () =>
      spawn(
        process.execPath,
        [
          SANDBOX_INIT,
          "--proxy-socket",
          path.join(dir, "none.sock"),
          "--listen",
          String(await freePort()),
          "--wait-fd",
          "3",
          "--",
          "sh",
          "-c",
          `echo started; touch ${marker}`,
        ],
        { stdio: ["ignore", "pipe", "pipe", "pipe"] },
      );
    const waiting = await launch();
    let out = "";
    waiting.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(out).toBe("");
    (waiting.stdio[3] as NodeJS.WritableStream).end("go");
    const [code] = (await once(waiting, "close")) as [number | null];
    expect(code).toBe(0);
    expect(out).toBe("started\n");
    rmSync(marker, { force: true });

    const abandoned = await launch();
    let err = "";
    abandoned.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    (abandoned.stdio[3] as NodeJS.WritableStream).end();
    const [abandonedCode] = (await once(abandoned, "close")) as [number | null];
    expect(abandonedCode).toBe(125);
    expect(err).toContain("ended the attempt before the command started");
    expect(existsSync(marker)).toBe(false);
  });
});

async function start(overrides: Partial<EgressProxyOptions> & { pool: string[] }): Promise<{ proxy: EgressProxy; denials: EgressDenial[] }> {
  const denials: EgressDenial[] = [];
  const proxy = await startEgressProxy({
    socketPath: path.join(mkdtempSync(path.join(dir, "p")), "egress.sock"),
    task: null,
    lookup: counting({ "api.test.example": ["127.0.0.1"], "cdn.test.example": ["127.0.0.1"] }),
    onDenied: (denial) => denials.push(denial),
    ...overrides,
  });
  proxies.push(proxy);
  return { proxy, denials };
}

/** A lookup from a fixed table that records what it was asked; unknown names fail like DNS does. */
function counting(table: Record<string, string[]>): HostLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses;
  };
  return Object.assign(lookup, { calls });
}

/** Sends `text` and reads until the proxy closes the connection. */
async function raw(socketPath: string, text: string): Promise<string> {
  const socket = net.connect(socketPath);
  socket.write(text);
  return readAll(socket);
}

async function readAll(socket: net.Socket | tls.TLSSocket): Promise<string> {
  let text = "";
  socket.setEncoding("utf8").on("data", (d: string) => (text += d));
  await once(socket, "close");
  return text;
}

/** CONNECTs and returns the socket once the proxy's answer head has been read. */
async function connectThrough(socketPath: string, target: string): Promise<{ socket: net.Socket; status: number }> {
  const socket = net.connect(socketPath);
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  let head = Buffer.alloc(0);
  while (!head.includes("\r\n\r\n")) {
    const [chunk] = (await once(socket, "data")) as [Buffer];
    head = Buffer.concat([head, chunk]);
  }
  const end = head.indexOf("\r\n\r\n") + 4;
  if (end < head.length) socket.unshift(head.subarray(end));
  return { socket, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head.toString())![1]) };
}

/** An absolute-form request through the proxy, as a CLI with HTTP_PROXY sends it. */
function get(
  socketPath: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: url, headers: { host: new URL(url).host, ...headers }, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function runInit(socketPath: string, port: number, command: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SANDBOX_INIT, "--proxy-socket", socketPath, "--listen", String(port), "--", ...command], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** An HTTPS origin with a self-signed certificate for api.test.example, made now; null without openssl. */
async function startTlsOrigin(): Promise<{ server: https.Server; port: number; ca: string } | null> {
  if (!hasOpenssl()) return null;
  const key = path.join(dir, "origin.key");
  const cert = path.join(dir, "origin.crt");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=api.test.example",
      "-addext",
      "subjectAltName=DNS:api.test.example",
    ],
    { stdio: "ignore" },
  );
  const ca = readFileSync(cert, "utf8");
  const server = https.createServer({ key: readFileSync(key), cert: ca }, (req, res) => res.end(`tls says ${req.url}`));
  return { server, port: await listen(server), ca };
}

function cidr(text: string): CidrRange {
  const parsed = parseCidr(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.range;
}
