/**
 * `npm start`: CodeForge on this machine, end to end, with nothing but Node.
 *
 * Starts the edge under `wrangler dev` and one runner, creates a small demo repository, runs a
 * demo task against it while printing its live output and result, then keeps serving so you
 * can submit more tasks with curl. Ctrl-C stops everything it started.
 *
 * Settings: `PORT` (default 8787), `CODEFORGE_ADMIN_KEY` (else one is generated and printed),
 * `CODEFORGE_RUNNER_SECRET` (else generated), `CODEFORGE_START_DEMO=0` to skip the demo task,
 * `CLIENT_ADDRESS_HEADER` (default `none`: under `wrangler dev` every header is the client's
 * own, so none tells a trustworthy client address; name one only behind a proxy that sets it),
 * and any runner setting (`CODEFORGE_CLIS`, `CODEFORGE_CLI_ENV_<CLI>_<NAME>`, `CODEFORGE_SANDBOX`,
 * … — see `runner-settings.ts`); by default the runner uses the bubblewrap sandbox when this
 * machine can build one (`local-sandbox.ts`).
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { newSecret } from "../api/ids.js";
import { ApiClient } from "../client/api-client.js";
import { followTask } from "../client/follow-task.js";
import { renderEvent } from "../client/render-event.js";
import { ensureDemoRepo } from "./demo-repo.js";
import { PROJECT_ROOT, startEdge, startRunner, type ManagedProcess } from "./local-stack.js";
import { localSandboxSettings } from "./local-sandbox.js";
import { callerRunnerSettings } from "./runner-settings.js";

const port = Number(process.env.PORT ?? 8787);
const adminKey = process.env.CODEFORGE_ADMIN_KEY || newSecret("cf_admin");
const runnerSecret = process.env.CODEFORGE_RUNNER_SECRET || newSecret("cf_runner");
const stateDir = join(PROJECT_ROOT, ".codeforge");
const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
const bold = (t: string) => (color ? `\x1b[1m${t}\x1b[0m` : t);
// `wrangler dev` answers clients directly: no header it sees is beyond their reach.
const clientAddressHeader = process.env.CLIENT_ADDRESS_HEADER || "none";

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

async function main(): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`PORT must be a TCP port number, got ${process.env.PORT}`);
  mkdirSync(stateDir, { recursive: true });

  // Tracing settings given to `npm start` go to both the edge and the runner (docs/tracing.md).
  const tracing = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith("OTEL_") && e[1] !== undefined));
  console.log(`Starting the edge (wrangler dev) on http://127.0.0.1:${port} …`);
  const edge = await startEdge({
    port,
    stateDir,
    vars: {
      CODEFORGE_ADMIN_KEY: adminKey,
      RUNNER_SECRETS: runnerSecret,
      CODEFORGE_LOCAL_MODE: "true",
      // A local stack: webhooks to a receiver on this machine (http://127.0.0.1:…) are allowed.
      WEBHOOKS_ALLOW_LOCAL: process.env.WEBHOOKS_ALLOW_LOCAL === "false" ? "false" : "true",
      CLIENT_ADDRESS_HEADER: clientAddressHeader,
      ...tracing,
    },
  });
  started.push(edge);
  if (clientAddressHeader.toLowerCase() === "none") {
    console.log("No trustworthy client address (CLIENT_ADDRESS_HEADER=none): keys with allowed_cidrs are refused, failed authentications are counted per key. Behind a proxy, set CLIENT_ADDRESS_HEADER to the header it sets.");
  } else {
    console.log(`Client addresses come from the ${clientAddressHeader} header (CLIENT_ADDRESS_HEADER): only safe if every request passes a proxy that sets it.`);
  }

  const sandbox = await localSandboxSettings(callerRunnerSettings(process.env));
  console.log(`Starting a runner (${sandbox.summary}) …`);
  const runner = startRunner({ edgeUrl: edge.url, secret: runnerSecret, runnerId: "local-runner-1", stateDir, concurrency: 2, env: { ...tracing, ...sandbox.env } });
  started.push(runner);
  runner.child.on("exit", (code) => {
    if (!stopping) console.error(`The runner exited (code ${code}); see ${runner.logFile}`);
  });

  const repoUrl = ensureDemoRepo(join(stateDir, "demo-repo.git"));
  const client = new ApiClient({ baseUrl: edge.url, apiKey: adminKey });

  if (process.env.CODEFORGE_START_DEMO !== "0") {
    const task = await client.createTask({
      repo: { url: repoUrl, ref: "main" },
      prompt: "Add a note that CodeForge ran this task end to end",
      cli: "demo",
      timeout_seconds: 120,
    });
    console.log(`\n${bold(`Demo task ${task.id}`)} (cli demo, repo ${repoUrl})`);
    for await (const event of followTask(client, task.id)) {
      const line = renderEvent(event, { color });
      if (line !== null) console.log(line);
    }
    const done = await client.getTask(task.id);
    console.log(bold(`\nDemo task ${done.status}.`));
  }

  const auth = process.env.CODEFORGE_ADMIN_KEY ? "$CODEFORGE_ADMIN_KEY" : adminKey;
  console.log(`
${bold("CodeForge is running.")}
  API         ${edge.url}/api/v1
  admin key   ${process.env.CODEFORGE_ADMIN_KEY ? "(from CODEFORGE_ADMIN_KEY)" : adminKey}
  demo repo   ${repoUrl}
  logs        ${edge.logFile}
              ${runner.logFile}

Submit a task:
  curl -s ${edge.url}/api/v1/tasks -H "Authorization: Bearer ${auth}" \\
    -H "Content-Type: application/json" \\
    -d '{"repo":{"url":"${repoUrl}"},"prompt":"Document the greet function","cli":"demo"}'

Press Ctrl-C to stop.`);
}

main().catch(async (err: unknown) => {
  console.error(`\nCodeForge failed to start: ${err instanceof Error ? err.message : String(err)}`);
  await stopAll(1);
});
