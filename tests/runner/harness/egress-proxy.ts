/**
 * What the egress proxy's tests share: real origin servers on 127.0.0.1 (a TCP echo, an HTTP
 * server that answers with the request it saw and hop-by-hop headers of its own, and when asked
 * an HTTPS origin with a certificate made at test time), `start()` for a proxy on a real Unix
 * socket with name resolution injected (test host names map to 127.0.0.1) and its denials
 * recorded, and the clients a sandboxed CLI would be: `raw`, `get`, `connectThrough`.
 * @module
 */
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type tls from "node:tls";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type CidrRange, parseCidr } from "#api/index.js";
import type { HostLookup } from "../../../runner/src/git/repo-host-check.js";
import { type EgressDenial, type EgressProxy, type EgressProxyOptions, startEgressProxy } from "../../../runner/src/sandbox/egress-proxy.js";

/** The networks a test allows so the local origins can be reached. */
export const LOOPBACK: CidrRange[] = [cidr("127.0.0.1/32")];

export interface EgressTestbed {
  /** A scratch directory, removed after the file. */
  dir: string;
  /** A TCP server that echoes what it gets, half-close included. */
  echoPort: number;
  /** An HTTP server answering `{ method, url, headers }` of the request it saw. */
  webPort: number;
  /** An HTTPS origin for api.test.example (with `tls: true` and openssl installed), else null. */
  tlsOrigin: { server: https.Server; port: number; ca: string } | null;
  /** Starts a proxy on a fresh Unix socket, closed after the test; its denials are recorded. */
  start(overrides: Partial<EgressProxyOptions> & { pool: string[] }): Promise<{ proxy: EgressProxy; denials: EgressDenial[] }>;
}

/** Registers the file's hooks: the origins before all tests, each test's proxies closed after it. */
export function useEgressTestbed(options: { tls?: boolean } = {}): EgressTestbed {
  let echo: net.Server;
  let web: http.Server;
  const proxies: EgressProxy[] = [];
  const bed: EgressTestbed = {
    dir: "",
    echoPort: 0,
    webPort: 0,
    tlsOrigin: null,
    async start(overrides) {
      const denials: EgressDenial[] = [];
      const proxy = await startEgressProxy({
        socketPath: path.join(mkdtempSync(path.join(bed.dir, "p")), "egress.sock"),
        task: null,
        lookup: counting({ "api.test.example": ["127.0.0.1"], "cdn.test.example": ["127.0.0.1"] }),
        onDenied: (denial) => denials.push(denial),
        ...overrides,
      });
      proxies.push(proxy);
      return { proxy, denials };
    },
  };

  beforeAll(async () => {
    bed.dir = mkdtempSync(path.join(os.tmpdir(), "cf-egress-"));
    echo = net.createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
    bed.echoPort = await listen(echo);
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
    bed.webPort = await listen(web);
    if (options.tls) bed.tlsOrigin = await startTlsOrigin(bed.dir);
  });

  afterAll(async () => {
    echo.close();
    web.close();
    bed.tlsOrigin?.server.close();
    rmSync(bed.dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });

  return bed;
}

/** A lookup from a fixed table that records what it was asked; unknown names fail like DNS does. */
export function counting(table: Record<string, string[]>): HostLookup & { calls: string[] } {
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
export async function raw(socketPath: string, text: string): Promise<string> {
  const socket = net.connect(socketPath);
  socket.write(text);
  return readAll(socket);
}

/** Reads until the other end closes the connection. */
export async function readAll(socket: net.Socket | tls.TLSSocket): Promise<string> {
  let text = "";
  socket.setEncoding("utf8").on("data", (d: string) => (text += d));
  await once(socket, "close");
  return text;
}

/** CONNECTs and returns the socket once the proxy's answer head has been read. */
export async function connectThrough(socketPath: string, target: string): Promise<{ socket: net.Socket; status: number }> {
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
export function get(
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

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

export function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** An HTTPS origin with a self-signed certificate for api.test.example, made now; null without openssl. */
async function startTlsOrigin(dir: string): Promise<{ server: https.Server; port: number; ca: string } | null> {
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
