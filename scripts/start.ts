/**
 * `npm start`: CodeForge on this machine, end to end, with nothing but Node.
 *
 * Starts the edge under `wrangler dev` and one runner, creates a small demo repository, runs a
 * demo task against it while printing its live output and result, then keeps serving so you
 * can submit more tasks with curl. Ctrl-C stops everything it started.
 *
 * Settings, all from its environment: `PORT` (default 8787), `CODEFORGE_STATE_DIR` (default
 * `.codeforge`), `CODEFORGE_START_DEMO=0` to skip the demo task; every edge setting
 * (`edge-settings.ts`: `wrangler.toml`'s `[vars]`, the edge's secrets, `OTEL_*`) over the local
 * defaults in `start-settings.ts`, the GitHub App's private key possibly read from
 * `GITHUB_APP_PRIVATE_KEY_FILE`; and every runner setting (`runner-settings.ts`). The admin key
 * (`CODEFORGE_ADMIN_KEY`) and runner secret (`CODEFORGE_RUNNER_SECRET`) are generated once and
 * kept in the state directory. By default the runner uses the bubblewrap sandbox when this
 * machine can build one (`local-sandbox.ts`).
 * @module
 */
import { mkdirSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { isTerminal, type TaskStatus } from "#api/task.js";
import { ApiClient, CodeForgeError } from "../client/api-client.js";
import { followTask } from "../client/follow-task.js";
import { renderEvent } from "../client/render-event.js";
import { ensureDemoRepo } from "./demo-repo.js";
import { edgeSettingNames, tracingSettings } from "./edge-settings.js";
import { PROJECT_ROOT, freePort, portInUse, startEdge, startRunner, waitForOk, type ManagedProcess } from "./local-stack.js";
import { localSandboxSettings } from "./local-sandbox.js";
import { callerRunnerSettings } from "./runner-settings.js";
import { githubPrivateKeyFromFile, keptSecret, localEdgeVars } from "./start-settings.js";

const DEMO_TIMEOUT_MS = 180_000;
const RUNNER_READY_TIMEOUT_MS = 60_000;

const env = process.env;
const port = Number(env.PORT || 8787);
const stateDir = env.CODEFORGE_STATE_DIR ? resolve(env.CODEFORGE_STATE_DIR) : join(PROJECT_ROOT, ".codeforge");
const color = process.stdout.isTTY === true && !env.NO_COLOR;
const bold = (t: string) => (color ? `\x1b[1m${t}\x1b[0m` : t);
/** A path as short as it can be said from where `npm start` was run. */
const shown = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
};

const started: ManagedProcess[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.all(started.map((p) => p.stop()));
  }
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

/** A problem `npm start` reports in one line, without "failed to start" before it. */
class StartRefused extends Error {}

async function main(): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new StartRefused(`PORT must be a TCP port number, got ${JSON.stringify(env.PORT)}`);
  // Before anything starts: a second `npm start` would otherwise reach the first one's edge.
  if (await portInUse(port)) throw new StartRefused(`port ${port} is in use (another CodeForge?) — stop it or set PORT`);

  const runnerSettings = callerRunnerSettings(env);
  const metricsPort = runnerSettings.CODEFORGE_HEALTH_PORT !== undefined ? Number(runnerSettings.CODEFORGE_HEALTH_PORT) : await freePort();
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65_535) {
    throw new StartRefused(`CODEFORGE_HEALTH_PORT must be a TCP port number (0: off), got ${JSON.stringify(runnerSettings.CODEFORGE_HEALTH_PORT)}`);
  }
  if (metricsPort !== 0 && metricsPort !== port && (await portInUse(metricsPort))) {
    throw new StartRefused(`port ${metricsPort} (CODEFORGE_HEALTH_PORT, the runner's metrics) is in use — stop what holds it or set CODEFORGE_HEALTH_PORT`);
  }
  if (metricsPort === port) throw new StartRefused(`CODEFORGE_HEALTH_PORT and PORT are both ${port}; give the runner's metrics another port`);

  mkdirSync(stateDir, { recursive: true });
  const adminKey = keptSecret(env, "CODEFORGE_ADMIN_KEY", stateDir, "admin-key", "cf_admin");
  const runnerSecret = keptSecret(env, "CODEFORGE_RUNNER_SECRET", stateDir, "runner-secret", "cf_runner");
  let githubKey: ReturnType<typeof githubPrivateKeyFromFile>;
  try {
    githubKey = githubPrivateKeyFromFile(env);
  } catch (err) {
    throw new StartRefused((err as Error).message);
  }
  const vars = localEdgeVars({ ...env, ...githubKey }, edgeSettingNames(PROJECT_ROOT), { adminKey: adminKey.value, runnerSecret: runnerSecret.value });

  console.log(`Starting the edge (wrangler dev) on http://127.0.0.1:${port} …`);
  const edge = await startEdge({ port, stateDir, vars });
  started.push(edge);
  const clientAddressHeader = vars.CLIENT_ADDRESS_HEADER ?? "none";
  if (clientAddressHeader.toLowerCase() === "none") {
    console.log(
      "No trustworthy client address (CLIENT_ADDRESS_HEADER=none): keys with allowed_cidrs are refused, failed authentications are counted per key. Behind a proxy, set CLIENT_ADDRESS_HEADER to the header it sets.",
    );
  } else {
    console.log(
      `Client addresses come from the ${clientAddressHeader} header (CLIENT_ADDRESS_HEADER): only safe if every request passes a proxy that sets it.`,
    );
  }

  // Tracing settings given to `npm start` go to both the edge and the runner (docs/tracing.md).
  const sandbox = await localSandboxSettings(runnerSettings);
  console.log(`Starting a runner (${sandbox.summary}) …`);
  const runner = startRunner({
    edgeUrl: edge.url,
    secret: runnerSecret.value,
    runnerId: "local-runner-1",
    stateDir,
    concurrency: 2,
    healthPort: metricsPort,
    // Its metrics and health endpoints are for this machine only, unless the caller says otherwise.
    env: { CODEFORGE_HEALTH_HOST: "127.0.0.1", ...tracingSettings(env), ...sandbox.env },
  });
  started.push(runner);
  const metricsUrl = metricsPort === 0 ? null : `http://127.0.0.1:${metricsPort}/metrics`;
  // A runner that cannot start (a bad setting, a missing CLI) says so here, not as a demo task
  // that waits forever.
  if (metricsPort !== 0 && !(await waitForOk(`http://127.0.0.1:${metricsPort}/healthz`, runner, RUNNER_READY_TIMEOUT_MS))) {
    console.error(`The runner has not answered on port ${metricsPort} after ${RUNNER_READY_TIMEOUT_MS / 1_000} s; see ${shown(runner.logFile)}`);
  }

  runner.child.on("exit", (code, signal) => {
    if (!stopping) console.error(`The runner exited (${code ?? signal}); see ${shown(runner.logFile)}`);
  });

  const repoUrl = ensureDemoRepo(join(stateDir, "demo-repo.git"));
  const client = new ApiClient({ baseUrl: edge.url, apiKey: adminKey.value });
  if (env.CODEFORGE_START_DEMO !== "0") await runDemo(client, repoUrl);

  const fromEnv = adminKey.source === "environment";
  const auth = fromEnv ? "$CODEFORGE_ADMIN_KEY" : adminKey.value;
  const keyLine = fromEnv ? "(from CODEFORGE_ADMIN_KEY)" : `${adminKey.value}  (${adminKey.source === "new" ? "new, " : ""}kept in ${shown(adminKey.file)})`;
  const runnerLine = runnerSecret.source === "environment" ? "(from CODEFORGE_RUNNER_SECRET)" : `kept in ${shown(runnerSecret.file)}`;
  console.log(`
${bold("CodeForge is running.")}
  console      ${edge.url}/  (sign in with the admin key)
  API          ${edge.url}/api/v1
  API docs     ${edge.url}/api/v1/docs
  admin key    ${keyLine}
  runner key   ${runnerLine}
  metrics      ${metricsUrl ?? "off (CODEFORGE_HEALTH_PORT=0)"}${metricsUrl ? "  (runner)" : ""}
               ${edge.url}/metrics  (edge)
  demo repo    ${repoUrl}
  logs         ${shown(edge.logFile)}
               ${shown(runner.logFile)}
  task limit   ${vars.RATE_LIMIT_TASKS_PER_MINUTE} a minute per key (RATE_LIMIT_TASKS_PER_MINUTE)${githubLine(vars, edge.url)}

Every edge setting (wrangler.toml's [vars], the secrets) and runner setting (CODEFORGE_*) is
read from npm start's environment, e.g. RATE_LIMIT_TASKS_PER_MINUTE=600 npm start.

Submit a task:
  curl -s ${edge.url}/api/v1/tasks -H "Authorization: Bearer ${auth}" \\
    -H "Content-Type: application/json" \\
    -d '{"repo":{"url":"${repoUrl}"},"prompt":"Document the greet function","cli":"demo"}'

Press Ctrl-C to stop.`);
}

/** The summary's GitHub App line, when the App is configured (docs/github.md). */
function githubLine(vars: Record<string, string>, edgeUrl: string): string {
  if (!vars.GITHUB_APP_ID || !vars.GITHUB_APP_PRIVATE_KEY || !vars.GITHUB_WEBHOOK_SECRET) return "";
  return `\n  GitHub App   ${vars.GITHUB_APP_ID}, webhooks to ${edgeUrl}/integrations/github/webhook (GitHub must reach it: see docs/github.md)`;
}

/** Submits the demo task and prints it as it runs. Whatever goes wrong is said, and the stack keeps running. */
async function runDemo(client: ApiClient, repoUrl: string): Promise<void> {
  try {
    const task = await client.createTask({
      repo: { url: repoUrl, ref: "main" },
      prompt: "Add a note that CodeForge ran this task end to end",
      cli: "demo",
      timeout_seconds: 120,
    });
    console.log(`\n${bold(`Demo task ${task.id}`)} (cli demo, repo ${repoUrl})`);
    for await (const event of followTask(client, task.id, { signal: AbortSignal.timeout(DEMO_TIMEOUT_MS) })) {
      const line = renderEvent(event, { color });
      if (line !== null) console.log(line);
    }
    const done = await client.getTask(task.id);
    if (isTerminal(done.status as TaskStatus)) console.log(bold(`\nDemo task ${done.status}.`));
    else console.log(bold(`\nDemo task still ${done.status} after ${DEMO_TIMEOUT_MS / 1_000} s; CodeForge keeps running.`));
  } catch (err) {
    const why = err instanceof CodeForgeError ? `${err.message} (${err.status} ${err.code})` : err instanceof Error ? err.message : String(err);
    console.log(`\n${bold("The demo task did not run:")} ${why}. CodeForge keeps running.`);
  }
}

main().catch(async (err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  console.error(err instanceof StartRefused ? message : `\nCodeForge failed to start: ${message}`);
  await stopAll(1);
});
