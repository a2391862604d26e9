/**
 * An HTTP server that speaks the Upstash Redis REST protocol in front of any Redis, so the
 * edge's Upstash limiter (and `@upstash/redis` generally) can run against a Redis you host:
 * in tests against a local `redis-server`, and for self-hosters without an Upstash account.
 *
 * Endpoints (all `POST`, JSON bodies, `Authorization: Bearer <token>`):
 * - `/` — one command, `["SET","k","v"]` → `{"result":"OK"}`;
 * - `/pipeline` — `[[…],[…]]` → `[{"result":…},{"error":"…"}]` (one entry per command);
 * - `/multi-exec` — the same, run as one `MULTI`/`EXEC` transaction.
 * Errors are `{"error":"…"}` with 400 (401 for a bad token). Every response carries an
 * `upstash-sync-token`: one Redis behind one shim is always read-your-writes, so it is a
 * counter the client may echo back, nothing more.
 * @module
 */
import { timingSafeEqual, createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type Redis from "ioredis";
import { commandArgs, encodeReply, type Encoding } from "./reply-encoding.js";

/** Largest request body accepted; Upstash's own limit is of this order. */
export const SHIM_BODY_MAX_BYTES = 10 * 1_048_576;

/** Commands that would hand the whole connection to one client or stop the server. */
const REFUSED_COMMANDS = new Set([
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "monitor",
  "sync",
  "psync",
  "shutdown",
  "quit",
  "select",
  "multi",
  "exec",
  "watch",
  "blpop",
  "brpop",
  "blmove",
  "bzpopmin",
  "bzpopmax",
  "xread",
  "xreadgroup",
]);

export interface UpstashRestShimOptions {
  redis: Redis;
  /** The bearer token clients must send (what Upstash calls the REST token). */
  token: string;
}

class ShimError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const digest = (text: string) => createHash("sha256").update(text).digest();

export function createUpstashRestShim(options: UpstashRestShimOptions): Server {
  const expected = digest(`Bearer ${options.token}`);
  let syncToken = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!timingSafeEqual(digest(req.headers.authorization ?? ""), expected)) throw new ShimError(401, "Unauthorized");
    if (req.method !== "POST") throw new ShimError(405, "only POST is supported");
    const encoding: Encoding = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64" ? "base64" : "utf8";
    const body = await readJson(req);
    const path = new URL(req.url ?? "/", "http://shim").pathname.replace(/\/+$/, "") || "/";
    let payload: unknown;
    if (path === "/") payload = await single(body, encoding);
    else if (path === "/pipeline") payload = await pipeline(body, encoding);
    else if (path === "/multi-exec") payload = await multiExec(body, encoding);
    else throw new ShimError(404, `unknown endpoint ${path}`);
    send(res, 200, payload, ++syncToken);
  }

  async function single(body: unknown, encoding: Encoding) {
    const args = checked(body);
    try {
      return { result: encodeReply(await options.redis.callBuffer(...args), encoding) };
    } catch (err) {
      throw new ShimError(400, redisMessage(err));
    }
  }

  async function pipeline(body: unknown, encoding: Encoding) {
    const commands = commandList(body);
    const batch = options.redis.pipeline();
    for (const args of commands) batch.callBuffer(...args);
    const replies = (await batch.exec()) ?? [];
    return replies.map(([err, reply]) => (err ? { error: redisMessage(err) } : { result: encodeReply(reply, encoding) }));
  }

  async function multiExec(body: unknown, encoding: Encoding) {
    const commands = commandList(body);
    const transaction = options.redis.multi();
    for (const args of commands) transaction.callBuffer(...args);
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await transaction.exec();
    } catch (err) {
      // A command refused while queueing aborts the whole transaction (EXECABORT).
      throw new ShimError(400, redisMessage(err));
    }
    if (replies === null) throw new ShimError(400, "transaction aborted");
    return replies.map(([err, reply]) => (err ? { error: redisMessage(err) } : { result: encodeReply(reply, encoding) }));
  }

  function commandList(body: unknown): [string, ...string[]][] {
    if (!Array.isArray(body) || body.length === 0) throw new ShimError(400, "expected a non-empty JSON array of commands");
    return body.map(checked);
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof ShimError ? err.status : 500;
      const message = err instanceof ShimError ? err.message : "internal error";
      if (status === 500) console.error("upstash-rest-shim:", err);
      send(res, status, { error: message }, syncToken);
    });
  });
}

function checked(command: unknown): [string, ...string[]] {
  const args = commandArgs(command);
  if (!args) throw new ShimError(400, 'expected a command as a non-empty JSON array, e.g. ["GET","key"]');
  if (REFUSED_COMMANDS.has(args[0].toLowerCase())) throw new ShimError(400, `ERR command ${args[0]} is not supported over REST`);
  return args;
}

function redisMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function send(res: ServerResponse, status: number, payload: unknown, syncToken: number): void {
  if (res.headersSent) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "upstash-sync-token": String(syncToken),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > SHIM_BODY_MAX_BYTES) throw new ShimError(400, `request body exceeds ${SHIM_BODY_MAX_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new ShimError(400, "request body is not JSON");
  }
}
