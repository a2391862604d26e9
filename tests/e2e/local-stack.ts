/**
 * One real CodeForge for the end-to-end tests: the edge under `wrangler dev` on a free port
 * with its own state directory, and real runner processes, both started exactly as `npm start`
 * starts them.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newSecret } from "#api/ids.js";
import { ApiClient } from "../../client/api-client.js";
import { ensureDemoRepo } from "../../scripts/demo-repo.js";
import { freePort, startEdge, startRunner, type ManagedProcess } from "../../scripts/local-stack.js";

export interface Stack {
  client: ApiClient;
  edgeUrl: string;
  adminKey: string;
  runnerSecret: string;
  repoUrl: string;
  stateDir: string;
  runners: ManagedProcess[];
  /** Every log line the stack wrote so far (edge and runners). */
  logs(): string;
  stop(): Promise<void>;
}

export async function startStack(options: { runners?: number; vars?: Record<string, string>; runnerEnv?: Record<string, string> } = {}): Promise<Stack> {
  const stateDir = mkdtempSync(join(tmpdir(), "codeforge-e2e-"));
  const adminKey = newSecret("cf_admin");
  const runnerSecret = newSecret("cf_runner");
  const edge = await startEdge({
    port: await freePort(),
    stateDir,
    vars: {
      CODEFORGE_ADMIN_KEY: adminKey,
      RUNNER_SECRETS: runnerSecret,
      CODEFORGE_LOCAL_MODE: "true",
      HEARTBEAT_INTERVAL_SECONDS: "1",
      // These suites test tasks, not limits (tests/edge-upstash does): keep limits out of reach.
      RATE_LIMIT_REQUESTS_PER_MINUTE: "1000000",
      RATE_LIMIT_TASKS_PER_MINUTE: "1000000",
      RATE_LIMIT_STREAMS_PER_MINUTE: "1000000",
      // As under `npm start`: wrangler dev answers clients directly, so no header is trustworthy.
      CLIENT_ADDRESS_HEADER: "none",
      ...options.vars,
    },
  });
  const runners = Array.from({ length: options.runners ?? 1 }, (_, i) =>
    startRunner({ edgeUrl: edge.url, secret: runnerSecret, runnerId: `e2e-runner-${i + 1}`, stateDir, concurrency: 2, env: options.runnerEnv }),
  );
  const all = [edge, ...runners];
  return {
    client: new ApiClient({ baseUrl: edge.url, apiKey: adminKey }),
    edgeUrl: edge.url,
    adminKey,
    runnerSecret,
    repoUrl: ensureDemoRepo(join(stateDir, "demo-repo.git")),
    stateDir,
    runners,
    logs: () => all.map((p) => readFileSync(p.logFile, "utf8")).join("\n"),
    async stop() {
      await Promise.all(all.map((p) => p.stop()));
      // A git the stopped runner had started (a clone, a repack) may still be finishing in a workspace.
      rmSync(stateDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    },
  };
}
