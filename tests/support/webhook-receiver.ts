/**
 * A real HTTP server standing in for a client's webhook receiver (node:http on 127.0.0.1).
 *
 * Each test uses its own path (`/hook/<name>`), scripts how that path answers — a list of
 * responses used in order, then a default — and reads back every request it got, headers and
 * raw body, so signatures can be verified exactly as a receiver would. Scripting and reading go
 * over HTTP (`/control/<name>`), so tests inside workerd drive it the same way as Node tests.
 * @module
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { ReceivedRequest, Script, ScriptedResponse } from "./webhook-receiver-protocol.js";

export type { ReceivedRequest, Script, ScriptedResponse };

/** Bounds what a runaway sender can make the receiver keep. */
const REQUESTS_PER_NAME_MAX = 1_000;

export interface WebhookReceiver {
  url: string;
  /** Scripts `name` (replacing what it had, and forgetting its requests). */
  script(name: string, script: Script): void;
  requests(name: string): ReceivedRequest[];
  close(): Promise<void>;
}

/** Starts a receiver on a free loopback port. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const scripts = new Map<string, { queue: ScriptedResponse[]; fallback: ScriptedResponse }>();
  const received = new Map<string, ReceivedRequest[]>();
  const setScript = (name: string, script: Script) => {
    scripts.set(name, { queue: [...(script.responses ?? [])], fallback: script.default ?? { status: 200, body: "ok" } });
    received.set(name, []);
  };

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://receiver");
    const [, kind, name] = url.pathname.split("/");
    if (kind === "control" && name) {
      if (req.method === "PUT") {
        setScript(name, JSON.parse(body) as Script);
        res.writeHead(204).end();
      } else {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ requests: received.get(name) ?? [] }));
      }
      return;
    }
    if (kind !== "hook" || !name) {
      res.writeHead(404).end("no such hook");
      return;
    }
    const script = scripts.get(name) ?? { queue: [], fallback: { status: 200, body: "ok" } };
    const answer = script.queue.shift() ?? script.fallback;
    const list = received.get(name) ?? [];
    if (list.length < REQUESTS_PER_NAME_MAX) {
      list.push({
        method: req.method ?? "",
        path: url.pathname + url.search,
        headers: req.headers as Record<string, string>,
        body,
        receivedAt: Date.now(),
        answeredWith: answer.status,
      });
    }
    received.set(name, list);
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    if (res.destroyed) return;
    res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? "");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    script: setScript,
    requests: (name) => received.get(name) ?? [],
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
