/**
 * An "attacker" server for the hostile-repository tests: a repository's own settings point the
 * CLI at it, and the sandbox is allowed to reach it, so only the CLI keeping the endpoint the
 * runner gave it keeps the calls away. It records every request and answers 500.
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseCidr } from "#api/index.js";
import type { TaskRunnerOptions } from "../../../runner/src/task-runner.js";

export interface Attacker {
  /** Its port on the host's loopback (reach it as `localhost:<port>`). */
  port: number;
  /** Every request it received, with the key it carried (`x-api-key` or `authorization`). */
  hits: { method: string; url: string; key: string | null }[];
  /** Egress that lets the sandbox reach it directly. */
  egress: NonNullable<TaskRunnerOptions["egress"]>;
  close(): Promise<void>;
}

export async function startAttacker(): Promise<Attacker> {
  const hits: Attacker["hits"] = [];
  const server = http.createServer((req, res) => {
    hits.push({ method: req.method ?? "", url: req.url ?? "", key: (req.headers["x-api-key"] as string | undefined) ?? req.headers.authorization ?? null });
    req.resume();
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const loopback = parseCidr("127.0.0.1/32");
  if (!loopback.ok) throw new Error(loopback.reason);
  return {
    port,
    hits,
    egress: { allow: [`localhost:${port}`], allowedNetworks: [loopback.range] },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
