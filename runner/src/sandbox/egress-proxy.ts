/**
 * The egress proxy: the one way out of an attempt's sandbox.
 *
 * The sandbox has its own network namespace with nothing but `lo`, so the CLI inside can reach
 * the world only through this proxy, which the runner runs outside it and which listens on a
 * Unix socket bind-mounted in (`runner/bin/sandbox-init.mjs` bridges a loopback TCP port inside
 * the sandbox to that socket, and the CLI gets it as `HTTPS_PROXY`). It speaks plain HTTP/1.1
 * proxying: `CONNECT host:port` tunnels (HTTPS and anything else over TCP) and absolute-form
 * `GET http://host/path` requests. Requests for the model gateway's name are the gateway's,
 * either way: absolute-form, or through a `CONNECT` to its port 80 (Node's fetch tunnels plain
 * http too), never the network.
 *
 * Every request is decided the same way, in this order:
 *  0. a host the policy `refuse`s (the model APIs, while a task's setup runs) is refused
 *     whatever the allowlists say;
 *  1. the name as the client gave it against the pool's policy narrowed by the task's
 *     (`egressPermits`; an IP literal never matches a host pattern, so it is refused here);
 *  2. the name is resolved here, not in the sandbox, and refused when any address is
 *     non-public (`nonPublicRange`) and outside the operator's `allowedNetworks` — one
 *     private address among public ones is enough, as in `repo-host-check.ts`;
 *  3. the connection goes to an address that was checked, never to a second resolution of the
 *     name, so a name that answers differently a moment later (DNS rebinding) gains nothing
 *     (`egress-connect.ts`).
 * @module
 */
import { rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import { egressPermits, type CidrRange } from "#api/index.js";
import { systemLookup, type HostLookup } from "../git/repo-host-check.js";
import { connectFirst, errorCode, refusedRange, splice, TimeoutError, withTimeout } from "./egress-connect.js";
import { HOP_BY_HOP } from "./hop-by-hop.js";
import { MODEL_GATEWAY_HOST, MODEL_GATEWAY_URL, type ModelGateway } from "./model-gateway.js";

/**
 * Request line and headers of one proxied request. A CLI's proxy request is a few hundred bytes;
 * this is Node's own default, named here because it bounds what one client makes us buffer.
 */
export const EGRESS_HEADER_MAX_BYTES = 16_384;

/** Resolving plus connecting to an origin; a client waiting longer gets 504. */
export const EGRESS_CONNECT_TIMEOUT_MS = 10_000;

/** One refused request, for the attempt's log. */
export interface EgressDenial {
  /** The host as the client named it (lowercase). */
  host: string;
  port: number;
  /** Short and human: "not in the egress policy", "resolves to 10.0.0.5, a non-public address: …". */
  reason: string;
}

export interface EgressProxyOptions {
  /** Where to listen. A path in a fresh per-attempt directory; it is bind-mounted into the sandbox. */
  socketPath: string;
  /** The runner pool's egress patterns (`egress-host.ts`). */
  pool: readonly string[];
  /** The task's narrowing of the pool's patterns; null: the pool's policy as it is. */
  task: readonly string[] | null;
  /** Patterns refused even when `pool` allows them, with the reason the denial gives. */
  refuse?: { patterns: readonly string[]; reason: string };
  /** Non-public networks the operator opened (`egress_allowed_networks`); every other non-public address is refused. */
  allowedNetworks?: readonly CidrRange[];
  /** Resolves host names; the system resolver by default. */
  lookup?: HostLookup;
  /** Called once per refused (403) request. Must not throw: it runs inside the proxy's socket handlers. */
  onDenied: (denial: EgressDenial) => void;
  /** Bound on resolving plus connecting to the origin (default `EGRESS_CONNECT_TIMEOUT_MS`). */
  connectTimeoutMs?: number;
  /** Serves requests for `MODEL_GATEWAY_HOST` (plain http) instead of the network. */
  gateway?: ModelGateway;
}

export interface EgressProxy {
  socketPath: string;
  /** Stops listening, destroys open tunnels and requests, and removes the socket file. */
  close(): Promise<void>;
}

type Admission = { ok: true; socket: net.Socket } | { ok: false; status: 403 | 502 | 504; reason: string };

/**
 * Starts the proxy on `socketPath` (which must not exist yet).
 *
 * @example
 * const proxy = await startEgressProxy({
 *   socketPath: path.join(attemptDir, "egress.sock"),
 *   pool: ["api.anthropic.com", "*.packages.example.org"],
 *   task: null,
 *   onDenied: ({ host, port, reason }) => log.warn(`egress to ${host}:${port} refused: ${reason}`),
 * });
 * // … run the sandbox …
 * await proxy.close();
 */
export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const lookup = options.lookup ?? systemLookup;
  const allowedNetworks = options.allowedNetworks ?? [];
  const connectTimeoutMs = options.connectTimeoutMs ?? EGRESS_CONNECT_TIMEOUT_MS;
  /** Every socket on either side, so close() leaves nothing open. */
  const open = new Set<Duplex>();
  let closed = false;
  const track = (socket: Duplex) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  };

  /** The three-step decision of the module docblock; on success, a connected socket. */
  async function admit(host: string, port: number): Promise<Admission> {
    if (options.refuse && egressPermits(options.refuse.patterns, null, host, port)) return deny(host, port, options.refuse.reason);
    if (!egressPermits(options.pool, options.task, host, port)) {
      const range = net.isIP(host) ? refusedRange(host, allowedNetworks) : null;
      const reason = !net.isIP(host)
        ? "not in the egress policy"
        : range
          ? `a non-public address: ${range}`
          : "not in the egress policy (it names hosts, not IP addresses)";
      return deny(host, port, reason);
    }
    const deadline = Date.now() + connectTimeoutMs;
    let addresses: string[];
    try {
      addresses = await withTimeout(lookup(host), connectTimeoutMs);
    } catch (err) {
      if (err instanceof TimeoutError) return { ok: false, status: 504, reason: `${host} was not resolved within ${connectTimeoutMs} ms` };
      return { ok: false, status: 502, reason: `${host} could not be resolved (${errorCode(err)})` };
    }
    if (addresses.length === 0) return { ok: false, status: 502, reason: `${host} has no addresses` };
    for (const address of addresses) {
      const range = refusedRange(address, allowedNetworks);
      if (range) return deny(host, port, `resolves to ${address}, a non-public address: ${range}`);
    }
    try {
      const socket = await connectFirst(addresses, port, deadline);
      track(socket);
      if (closed) socket.destroy();
      return { ok: true, socket };
    } catch (err) {
      if (err instanceof TimeoutError) return { ok: false, status: 504, reason: `${host}:${port} did not answer within ${connectTimeoutMs} ms` };
      return { ok: false, status: 502, reason: `cannot connect to ${host}:${port} (${errorCode(err)})` };
    }
  }

  function deny(host: string, port: number, reason: string): Admission {
    options.onDenied({ host, port, reason });
    return { ok: false, status: 403, reason };
  }

  async function tunnel(req: http.IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    const target = parseAuthority(req.url ?? "");
    if (!target) return void client.end(rawResponse(400, "CONNECT needs host:port, e.g. CONNECT api.example.com:443"));
    if (options.gateway && target.host === MODEL_GATEWAY_HOST) {
      if (target.port !== 80 || !gatewayServer) return void client.end(rawResponse(400, `the model gateway speaks plain http: ${MODEL_GATEWAY_URL}`));
      // Node's fetch (undici's proxy agent, as Gemini CLI uses it) tunnels plain http through
      // CONNECT too: the tunnel then carries the same plain HTTP requests, served by the gateway.
      client.write("HTTP/1.1 200 Connection established\r\n\r\n");
      if (head.length > 0) client.unshift(head);
      gatewayServer.emit("connection", client);
      return;
    }
    const admission = await admit(target.host, target.port);
    if (!admission.ok) return void client.end(rawResponse(admission.status, refusal(target, admission)));
    const upstream = admission.socket;
    if (client.destroyed) return void upstream.destroy();
    upstream.setNoDelay(true);
    client.write("HTTP/1.1 200 Connection established\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    splice(client, upstream);
  }

  async function forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const target = parseAbsolute(req.url ?? "");
    if (!target) return answer(res, 400, "the proxy takes CONNECT host:port or an absolute http:// URL (GET http://host/path)");
    if (options.gateway && target.host === MODEL_GATEWAY_HOST) return options.gateway.handle(req, res, target.path);
    const admission = await admit(target.host, target.port);
    if (!admission.ok) return answer(res, admission.status, refusal(target, admission));
    const socket = admission.socket;
    if (res.destroyed) return void socket.destroy();
    const upstream = http.request({
      createConnection: () => socket,
      method: req.method,
      path: target.path,
      headers: [...endToEnd(req.rawHeaders, ["host"]), "Host", target.authority],
    });
    upstream.on("response", (origin) => {
      res.writeHead(origin.statusCode ?? 502, origin.statusMessage, endToEnd(origin.rawHeaders));
      origin.pipe(res);
      origin.on("error", () => res.destroy());
    });
    upstream.on("error", (err) => {
      if (res.headersSent) res.destroy();
      else answer(res, 502, `${target.host}:${target.port} failed mid-request (${errorCode(err)})`);
    });
    // Before the response has ended this is the client giving up; after, it is a no-op.
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  }

  /** Requests that come through a CONNECT tunnel to the gateway, in origin form. */
  const gatewayServer = options.gateway
    ? http.createServer({ maxHeaderSize: EGRESS_HEADER_MAX_BYTES }, (req, res) => {
        if (!req.url?.startsWith("/")) return answer(res, 400, `through a tunnel to the model gateway, requests name a path: POST /v1/…`);
        options.gateway!.handle(req, res, req.url);
      })
    : null;
  const server = http.createServer({ maxHeaderSize: EGRESS_HEADER_MAX_BYTES });
  server.on("connection", track);
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    forward(req, res).catch(() => res.destroy());
  });
  server.on("connect", (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    // From here the socket is ours, not the HTTP server's: a reset must not become an uncaught error.
    client.on("error", () => client.destroy());
    tunnel(req, client, head).catch(() => client.destroy());
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || err.code === "ECONNRESET") return void socket.destroy();
    const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    socket.end(rawResponse(status, `malformed proxy request (${err.code ?? "parse error"})`));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });

  return {
    socketPath: options.socketPath,
    async close() {
      closed = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of open) socket.destroy();
      server.closeAllConnections();
      await stopped;
      await rm(options.socketPath, { force: true });
    },
  };
}

/** `host:port` or `[v6]:port`, as a CONNECT request names its target. */
function parseAuthority(text: string): { host: string; port: number } | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/@]+)):([0-9]{1,5})$/.exec(text);
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return null;
  return { host: (match[1] ?? match[2]!).toLowerCase(), port };
}

/** An absolute-form `http://` request target, or null for anything else. */
function parseAbsolute(text: string): { host: string; port: number; authority: string; path: string } | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null; // Origin-form (`/path`) and garbage land here alike: both are 400.
  }
  if (url.protocol !== "http:" || !url.hostname) return null;
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: url.port ? Number(url.port) : 80, authority: url.host, path: `${url.pathname}${url.search}` };
}

/** Raw headers minus hop-by-hop ones (and those the Connection header names, and `drop`). */
function endToEnd(raw: readonly string[], drop: readonly string[] = []): string[] {
  const named = new Set(drop);
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === "connection") for (const token of raw[i + 1]!.split(",")) named.add(token.trim().toLowerCase());
  }
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!HOP_BY_HOP.has(name) && !named.has(name)) kept.push(raw[i]!, raw[i + 1]!);
  }
  return kept;
}

function refusal(target: { host: string; port: number }, admission: { status: number; reason: string }): string {
  return admission.status === 403 ? `egress to ${target.host}:${target.port} refused: ${admission.reason}` : admission.reason;
}

/** A plain-text answer; after a 400 the connection is closed, since the client is confused about the protocol. */
function answer(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const body = `${text}\n`;
  const headers = { "content-type": "text/plain; charset=utf-8", "content-length": String(Buffer.byteLength(body)) };
  res.writeHead(status, status === 400 ? { ...headers, connection: "close" } : headers).end(body);
}

/** A whole response for a socket that is no longer the HTTP server's (CONNECT, parse errors). */
function rawResponse(status: number, text: string): string {
  const body = `${text}\n`;
  const head = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}`,
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
  ];
  return `${head.join("\r\n")}\r\n\r\n${body}`;
}
