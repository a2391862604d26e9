// `npm start` as a newcomer meets it (scripts/start.ts, run for real: wrangler dev, a runner, the
// demo task): started, started again on the same port while it runs, stopped and restarted.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createHmac, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ApiClient } from "../../client/api-client.js";
import { PROJECT_ROOT, freePort } from "../../scripts/local-stack.js";

interface NpmStart {
  child: ChildProcess;
  output(): string;
  /** Resolves with the output once `pattern` appears in it; rejects if it exits first or the time is up. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** `npm start` (what its script runs) with `env` and nothing else of this process's environment. */
function npmStart(env: Record<string, string>): NpmStart {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  return {
    child,
    output: () => text,
    exited,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = text.match(pattern);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}) before printing ${pattern}:\n${text}`);
        if (Date.now() > deadline) throw new Error(`npm start did not print ${pattern} within ${timeoutMs} ms:\n${text}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM"); // npm start stops its edge and runner (each its own process group), then exits
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    },
  };
}

describe("npm start", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "codeforge-npm-start-"));
  const running: NpmStart[] = [];
  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop()));
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("keeps its key across restarts, refuses a port in use, serves metrics, and outlives its demo task's failure", async () => {
    const port = await freePort();
    // One task a minute, so the restart's demo task meets the limit; a setting wrangler.toml has,
    // given the way a user gives it.
    // Short lease polls (a runner setting), so the runner is heard from within a second; and an
    // edge secret wrangler.toml does not name.
    const metricsToken = "a-local-metrics-token-0123456789";
    // A GitHub App, its private key given as the .pem file GitHub hands out (docs/github.md).
    const pemFile = join(stateDir, "github-app.pem");
    writeFileSync(pemFile, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }));
    const env = {
      PORT: String(port),
      CODEFORGE_STATE_DIR: stateDir,
      CODEFORGE_SANDBOX: "none",
      RATE_LIMIT_TASKS_PER_MINUTE: "1",
      CODEFORGE_LEASE_WAIT_MS: "1000",
      METRICS_TOKEN: metricsToken,
      GITHUB_APP_ID: "123456",
      GITHUB_WEBHOOK_SECRET: "a-local-webhook-secret",
      GITHUB_APP_PRIVATE_KEY_FILE: pemFile,
    };

    const first = npmStart(env);
    running.push(first);
    await first.waitFor(/CodeForge is running\.[\s\S]*Press Ctrl-C/, 90_000);
    const out1 = first.output();
    expect(out1).toContain("Demo task succeeded.");
    const adminKey = out1.match(/admin key {4}(cf_admin_\w+) {2}\(new, kept in (.+)\)/);
    expect(adminKey, out1).not.toBeNull();
    expect(adminKey![2]).toBe(join(stateDir, "admin-key"));
    expect(readFileSync(join(stateDir, "admin-key"), "utf8").trim()).toBe(adminKey![1]);
    expect(statSync(join(stateDir, "admin-key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, "runner-secret")).mode & 0o777).toBe(0o600);
    expect(out1).toContain(`runner key   kept in ${join(stateDir, "runner-secret")}`);
    // The console's URL is printed, and it serves the console's page.
    expect(out1).toContain(`console      http://127.0.0.1:${port}/  (sign in with the admin key)`);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain("<title>CodeForge</title>");
    expect(out1).toContain("task limit   1 a minute per key");
    expect(out1).toContain("No trustworthy client address (CLIENT_ADDRESS_HEADER=none)");
    expect(out1).toContain(`GitHub App   123456, webhooks to http://127.0.0.1:${port}/integrations/github/webhook`);
    // The edge has the App's settings: GitHub's ping, signed with the secret given, is answered.
    const ping = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
    const pong = await fetch(`http://127.0.0.1:${port}/integrations/github/webhook`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "ping",
        "x-github-delivery": "npm-start-ping-1",
        "x-hub-signature-256": `sha256=${createHmac("sha256", env.GITHUB_WEBHOOK_SECRET).update(ping).digest("hex")}`,
      },
      body: ping,
    });
    expect(await pong.json()).toEqual({ status: "pong", delivery: "npm-start-ping-1" });

    const metricsUrl = out1.match(/metrics {6}(http:\/\/127\.0\.0\.1:\d+\/metrics) {2}\(runner\)/)?.[1];
    expect(metricsUrl, out1).toBeDefined();
    const metrics = await fetch(metricsUrl!);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('codeforge_runner_tasks_total{outcome="succeeded",cli="demo"} 1');

    const edgeMetrics = out1.match(/ {15}(http:\/\/127\.0\.0\.1:\d+\/metrics) {2}\(edge\)/)![1]!;
    expect((await fetch(edgeMetrics)).status).toBe(401);
    expect((await fetch(edgeMetrics, { headers: { authorization: `Bearer ${metricsToken}` } })).status).toBe(200);

    // A second start on the same port says so, and starts nothing.
    const second = npmStart(env);
    running.push(second);
    expect(await Promise.race([second.exited, new Promise((r) => setTimeout(() => r("still running"), 30_000))])).toBe(1);
    expect(second.output().trim()).toBe(`port ${port} is in use (another CodeForge?) — stop it or set PORT`);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200); // the first is unharmed

    await first.stop();
    expect(first.child.exitCode).toBe(0);

    // Restarted within the minute: the demo task is refused by the limit, npm start says so and
    // keeps running, with the same admin key.
    const third = npmStart(env);
    running.push(third);
    await third.waitFor(/CodeForge is running\.[\s\S]*Press Ctrl-C/, 90_000);
    const out3 = third.output();
    expect(out3).toMatch(/The demo task did not run: rate limit "tasks" exceeded .*\(429 rate_limited\)\. CodeForge keeps running\./);
    expect(out3).toContain(`admin key    ${adminKey![1]}  (kept in ${join(stateDir, "admin-key")})`);
    const client = new ApiClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: adminKey![1]! });
    const tasks = await client.listTasks({});
    expect(tasks.tasks.map((t) => t.status)).toEqual(["succeeded"]); // the first start's demo task
    // Its runner signs with the kept secret: it reaches the edge, so it reads as ready.
    const readyz = `${out3.match(/metrics {6}(http:\/\/127\.0\.0\.1:\d+)\/metrics/)![1]}/readyz`;
    await expect.poll(async () => (await fetch(readyz)).status, { timeout: 15_000, interval: 250 }).toBe(200);
  }, 240_000);
});
