// Integration: a task's setup run by the real runner in the real bubblewrap sandbox, before a
// `script` CLI (a shell line) that reports what it finds. The setup runs in the checkout and
// the CLI sees what it made; a failing or overlong setup fails the task as setup_failed with its
// output and the CLI never runs; the setup reaches a loopback "registry" only when the setup's
// allowlist names it (the CLI never), never a model API or the model gateway (which the CLI
// reaches); the pool's default setup runs for tasks that give none, the repository's
// `.codeforge/setup.sh` only where the pool allows it. The real npm installs from a local
// registry during setup only when the setup's allowlist names it; what it installed is not the
// task's change.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCidr, type RunnerEvent } from "#api/index.js";
import type { CliAdapter } from "../../runner/src/cli/cli-adapter.js";
import { createScriptAdapter } from "../../runner/src/cli/script/script-adapter.js";
import type { SetupOptions } from "../../runner/src/attempt/attempt.js";
import { MODEL_GATEWAY_URL } from "../../runner/src/sandbox/model-gateway.js";
import { createRunnerMetrics } from "../../runner/src/telemetry/runner-metrics.js";
import { startLocalNpmRegistry, type LocalNpmRegistry } from "../support/local-npm-registry.js";
import { createGitFixture, type GitFixture } from "./harness/git-fixture.js";
import { startTestRunner } from "./harness/test-runner.js";
import { useRunner, type RunnerSetup } from "./harness/use-runner.js";

const LOOPBACK = (() => {
  const parsed = parseCidr("127.0.0.1/32");
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.range;
})();
const REGISTRY_HOST = "registry.codeforge.test";
const MODEL_API_HOST = "models.codeforge.test";

/** A loopback HTTP server standing in for a package registry (and, in one test, a model API); counts its requests. */
let server: http.Server;
let port = 0;
const hits: string[] = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" }).end('{"name":"left-pad","version":"1.3.0"}\n');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A `script` CLI that runs `line` in the checkout with `sh -c`. */
const shellCli = (line: string): CliAdapter => createScriptAdapter({ command: "/bin/sh", args: ["-c", line] });

/** The names the test's hosts resolve to: the loopback server (the sandbox reaches it only through the proxy). */
const lookup = async (host: string) => (host === REGISTRY_HOST || host === MODEL_API_HOST ? ["127.0.0.1"] : []);

function runner(cli: CliAdapter, setup: Partial<SetupOptions> = {}, register = new Registry()): RunnerSetup {
  return {
    sandbox: "bubblewrap",
    adapters: [cli],
    taskRunner: {
      setup: { commands: [], timeoutSeconds: 60, egressAllow: [`${REGISTRY_HOST}:${port}`], repositoryScript: false, ...setup },
      // Something for the CLI, so its sandbox has a proxy that can refuse the registry.
      egress: { allow: ["unrelated.codeforge.test"], allowedNetworks: [LOOPBACK] },
      lookup,
      metrics: createRunnerMetrics({ register, workspaceRoot: "/nonexistent" }),
    },
  };
}

const setupOutput = (events: RunnerEvent[]) => events.flatMap((e) => (e.type === "output" && e.phase === "setup" ? [e.text] : [])).join("");
const cliOutput = (events: RunnerEvent[]) => events.flatMap((e) => (e.type === "output" && e.phase === undefined ? [e.text] : [])).join("");

const h = useRunner({ doneTimeoutMs: 40_000 });

describe.skipIf(process.platform !== "linux")("a task's setup in the sandbox", () => {
  it("runs in the checkout before the CLI, which sees what it made; its output streams as the setup phase", async () => {
    const register = new Registry();
    await h.start(runner(shellCli("echo cli-start; cat .deps/made-by-setup > SEEN.md"), {}, register));
    const task = h.enqueue({
      cli: "script",
      setup: [
        "mkdir -p .deps && echo installed-in-$(pwd) > .deps/made-by-setup && echo 'tool # 1' > 'gen[1].txt'",
        "echo second step; echo warn >&2; echo setup-line >> README.md",
      ],
    });
    const completion = await h.done(task);
    expect(completion.error).toBeNull();
    expect(completion.outcome).toBe("succeeded");
    expect(completion.result?.patch).toContain("+installed-in-/workspace");
    // What the setup added is not the task's change; a tracked file it changed is.
    expect(completion.result?.changed_files).toEqual([
      { path: "README.md", status: "modified" },
      { path: "SEEN.md", status: "added" },
    ]);
    expect(completion.result?.phases?.setup?.duration_ms).toBeGreaterThan(0);
    const events = h.edge.events(task.id);
    expect(setupOutput(events)).toContain("second step");
    expect(events.some((e) => e.type === "output" && e.phase === "setup" && e.stream === "stderr" && e.text.includes("warn"))).toBe(true);
    expect(events.filter((e) => e.type === "log" && e.phase === "setup").map((e) => (e as { message: string }).message)).toEqual([
      expect.stringMatching(/^Setting up: 2 command\(s\) from the task/),
      "$ mkdir -p .deps && echo installed-in-$(pwd) > .deps/made-by-setup && echo 'tool # 1' > 'gen[1].txt'",
      "$ echo second step; echo warn >&2; echo setup-line >> README.md",
      "2 path(s) the setup added are left out of the task's change",
      expect.stringMatching(/^Setup done in \d+\.\d s$/),
    ]);
    // Every setup event comes before the CLI's first output.
    const firstCli = events.findIndex((e) => e.type === "output" && e.phase === undefined);
    expect(firstCli).toBeGreaterThan(events.findLastIndex((e) => "phase" in e && e.phase === "setup"));
    expect(cliOutput(events)).toContain("cli-start");
    expect(await register.metrics()).toMatch(/codeforge_runner_setup_seconds_count\{outcome="succeeded"\} 1/);
  });

  it("never writes through a link the setup put in the checkout's .git: its files then stay in the change", async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), "codeforge-setup-outside-"));
    try {
      await h.start(runner(shellCli("echo done > SEEN.md")));
      const task = h.enqueue({ cli: "script", setup: [`rm -rf .git/info && ln -s ${outside} .git/info && echo x > made.txt`] });
      const completion = await h.done(task);
      expect(completion.outcome).toBe("succeeded");
      expect(readdirSync(outside)).toEqual([]);
      expect(completion.result?.changed_files.map((f) => f.path)).toEqual(["SEEN.md", "made.txt"]);
      expect(h.logs(task)).toContain("The setup's files could not be left out of the task's change: the checkout's .git/info is not a directory");
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("fails the task as setup_failed with the command and its last output when a command fails; later commands and the CLI never run", async () => {
    const register = new Registry();
    await h.start(runner(shellCli("echo the-cli-ran"), {}, register));
    const task = h.enqueue({ cli: "script", setup: ["echo first ok", "echo boom-line; echo to-stderr >&2; exit 3", "echo never-reached"] });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("failed");
    expect(completion.result).toBeNull();
    expect(completion.error?.code).toBe("setup_failed");
    expect(completion.error?.message).toMatch(/^setup command `echo boom-line; echo to-stderr >&2; exit 3` exited with code 3; its last output:\n/);
    expect(completion.error?.message).toContain("boom-line\nto-stderr");
    const events = h.edge.events(task.id);
    expect(setupOutput(events)).not.toContain("never-reached");
    expect(JSON.stringify(events)).not.toContain("the-cli-ran");
    expect(h.logs(task).some((line) => line.startsWith("Starting script"))).toBe(false);
    expect(await register.metrics()).toMatch(/codeforge_runner_setup_seconds_count\{outcome="failed"\} 1/);
  });

  it("fails the task as setup_failed when the setup runs past its time limit", async () => {
    await h.start(runner(shellCli("echo the-cli-ran"), { timeoutSeconds: 1 }));
    const started = Date.now();
    const task = h.enqueue({ cli: "script", setup: ["echo waiting; sleep 30"] });
    const completion = await h.done(task);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(completion.error?.code).toBe("setup_failed");
    expect(completion.error?.message).toBe("setup command `echo waiting; sleep 30` ran past the setup's time limit (1 s); its last output:\nwaiting");
    expect(JSON.stringify(h.edge.events(task.id))).not.toContain("the-cli-ran");
  });

  it("never runs past the task's own timeout: the task then times out as ever", async () => {
    const register = new Registry();
    await h.start(runner(shellCli("echo the-cli-ran"), { timeoutSeconds: 600 }, register));
    const started = Date.now();
    const task = h.enqueue({ cli: "script", timeout_seconds: 10, setup: ["sleep 60"] });
    const completion = await h.done(task);
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(completion.outcome).toBe("timed_out");
    expect(completion.error?.code).toBe("timed_out");
    expect(JSON.stringify(h.edge.events(task.id))).not.toContain("the-cli-ran");
    expect(await register.metrics()).toMatch(/codeforge_runner_setup_seconds_count\{outcome="stopped"\} 1/);
  });

  it("reaches a registry on the setup's allowlist, which the CLI cannot reach", async () => {
    const fetch = `curl -sS -o /dev/null -w 'status=%{http_code}\\n' http://${REGISTRY_HOST}:${port}/left-pad`;
    await h.start(runner(shellCli(`${fetch} > CLI_FETCH.md`)));
    hits.length = 0;
    const task = h.enqueue({ cli: "script", setup: [`curl -sSf http://${REGISTRY_HOST}:${port}/left-pad -o .fetched.json && cat .fetched.json`] });
    const completion = await h.done(task);
    expect(completion.error).toBeNull();
    expect(setupOutput(h.edge.events(task.id))).toContain('"name":"left-pad"');
    // The CLI's request was refused by its proxy (403): only the setup's reached the server.
    expect(completion.result?.patch).toContain("+status=403");
    expect(hits).toEqual(["GET /left-pad"]);
    expect(h.edge.events(task.id)).toContainEqual(expect.objectContaining({ type: "egress_denied", host: REGISTRY_HOST, port }));
    expect(h.edge.events(task.id).filter((e) => e.type === "egress_denied" && e.phase === "setup")).toEqual([]);
  });

  it("reaches its registry from a workspace root too deep for a socket path inside it", async () => {
    // 90 characters of workspace root: the proxy's socket path there would pass the kernel's 107.
    const deepRoot = path.join(h.workspaceRoot, "d".repeat(Math.max(1, 90 - h.workspaceRoot.length)));
    const { loop } = await startTestRunner({ ...runner(shellCli("echo done > DONE.md")), edge: h.edge, workspaceRoot: deepRoot, runnerId: "deep-root" });
    try {
      const task = h.enqueue({ cli: "script", setup: [`curl -sSf http://${REGISTRY_HOST}:${port}/left-pad`] });
      const completion = await h.done(task);
      expect(completion.error).toBeNull();
      expect(setupOutput(h.edge.events(task.id))).toContain('"name":"left-pad"');
      // The attempt's socket directory outside the workspace goes with the attempt.
      await expect.poll(() => readdirSync(os.tmpdir()).filter((name) => name.startsWith("codeforge-sock-")), { timeout: 10_000 }).toEqual([]);
    } finally {
      await loop.stop(2_000);
    }
  });

  it("does not reach a registry missing from the setup's allowlist: the refusal is a setup egress_denied event", async () => {
    await h.start(runner(shellCli("echo the-cli-ran"), { egressAllow: ["elsewhere.codeforge.test"] }));
    hits.length = 0;
    const task = h.enqueue({ cli: "script", setup: [`curl -sSf http://${REGISTRY_HOST}:${port}/left-pad`] });
    const completion = await h.done(task);
    expect(completion.error?.code).toBe("setup_failed");
    expect(completion.error?.message).toMatch(/403/);
    expect(hits).toEqual([]);
    expect(h.edge.events(task.id)).toContainEqual({ type: "egress_denied", host: REGISTRY_HOST, port, reason: "not in the egress policy", phase: "setup" });
  });

  it("never reaches the CLI's model API, even listed, nor the model gateway, which the CLI reaches", async () => {
    const modelApi = `${MODEL_API_HOST}:${port}`;
    const gatewayCli: CliAdapter = {
      ...shellCli(`curl -sS -o /dev/null -w 'gateway=%{http_code}\\n' -H "x-api-key: $MODEL_KEY" ${MODEL_GATEWAY_URL}/v1/messages -d '{}' > CLI_GATEWAY.md`),
      egressHosts: () => [modelApi],
      modelGateway: () => ({
        upstream: { baseUrl: `http://127.0.0.1:${port}`, header: "x-api-key", key: "sk-operator-key-for-setup-test" },
        hide: [],
        env: (url, placeholder) => ({ MODEL_URL: url, MODEL_KEY: placeholder }),
      }),
    };
    await h.start(runner(gatewayCli, { egressAllow: [modelApi, `${REGISTRY_HOST}:${port}`] }));
    hits.length = 0;
    const probe = (url: string, name: string) => `curl -sS -o /dev/null -w '${name}=%{http_code}\\n' ${url}/v1/messages -d '{}' || true`;
    const task = h.enqueue({
      cli: "script",
      setup: [probe(`http://${modelApi}`, "model-api"), probe(MODEL_GATEWAY_URL, "gateway"), "env | grep -c cf-gateway- || true"],
    });
    const completion = await h.done(task);
    expect(completion.error).toBeNull();
    const setup = setupOutput(h.edge.events(task.id));
    expect(setup).toContain("model-api=403");
    expect(setup).toContain("gateway=403");
    // The gateway's placeholder is not in the setup's environment.
    expect(setup).toMatch(/^0$/m);
    const denials = h.edge.events(task.id).filter((e) => e.type === "egress_denied" && e.phase === "setup");
    expect(denials).toContainEqual(expect.objectContaining({ host: MODEL_API_HOST, reason: "a model API: not reachable during setup" }));
    expect(denials).toContainEqual(expect.objectContaining({ host: "model-gateway.codeforge.invalid" }));
    // The CLI's call went through the gateway to the upstream: the only request it got.
    expect(completion.result?.patch).toContain("+gateway=200");
    expect(hits).toEqual(["POST /v1/messages"]);
  });
});

describe.skipIf(process.platform !== "linux")("which setup runs", () => {
  let scripted: GitFixture;
  beforeAll(() => {
    scripted = createGitFixture({ "README.md": "# Scripted\n", ".codeforge/setup.sh": "#!/bin/sh\necho repository-script-ran > .from-repo-script\n" });
  });
  afterAll(() => scripted.remove());
  const cli = shellCli("cat .from-pool .from-repo-script > SEEN.md 2>&1; true");

  it("is the pool's default for a task that gives none, and nothing for a task that gives []", async () => {
    await h.start(runner(cli, { commands: ["echo pool-default-ran > .from-pool"] }));
    const none = await h.done(h.enqueue({ cli: "script" }));
    expect(none.result?.patch).toContain("+pool-default-ran");
    const empty = await h.done(h.enqueue({ cli: "script", setup: [] }));
    expect(empty.result?.patch).not.toContain("pool-default-ran");
    expect(empty.result?.phases?.setup).toBeUndefined();
  });

  it("is the repository's .codeforge/setup.sh only where the pool allows it", async () => {
    await h.start(runner(cli, { commands: ["echo pool-default-ran > .from-pool"], repositoryScript: false }));
    const refused = await h.done(h.enqueue({ cli: "script", repo: { url: scripted.url, ref: "main" } }));
    expect(refused.result?.patch).toContain("+pool-default-ran");
    expect(refused.result?.patch).not.toContain("repository-script-ran");

    await h.start(runner(cli, { commands: ["echo pool-default-ran > .from-pool"], repositoryScript: true }));
    const task = h.enqueue({ cli: "script", repo: { url: scripted.url, ref: "main" } });
    const allowed = await h.done(task);
    expect(allowed.result?.patch).toContain("+repository-script-ran");
    expect(allowed.result?.patch).not.toContain("pool-default-ran");
    expect(h.logs(task)).toContain("$ .codeforge/setup.sh");
    // A task's own setup still comes first.
    const own = await h.done(h.enqueue({ cli: "script", repo: { url: scripted.url, ref: "main" }, setup: ["echo task-setup > .from-pool"] }));
    expect(own.result?.patch).toContain("+task-setup");
    expect(own.result?.patch).not.toContain("repository-script-ran");
  });
});

describe.skipIf(process.platform !== "linux")("npm in the setup, against a local registry", () => {
  let registry: LocalNpmRegistry;
  beforeAll(async () => {
    registry = await startLocalNpmRegistry({ host: REGISTRY_HOST, exported: "padded by the local registry" });
  });
  afterAll(() => registry.close());
  const install = () => `npm install --no-audit --no-fund --no-update-notifier --fetch-retries=0 --registry ${registry.url} ${registry.name}`;

  it("installs the package when the setup's allowlist names the registry; the CLI uses it, the installed files are not the change", async () => {
    await h.start(runner(shellCli(`node -e "console.log(require('${registry.name}'))" > SEEN.md`), { egressAllow: [`${REGISTRY_HOST}:${registry.port}`] }));
    registry.requests.length = 0;
    const task = h.enqueue({ cli: "script", setup: [install()] });
    const completion = await h.done(task);
    expect(completion.error).toBeNull();
    expect(completion.result?.patch).toContain("+padded by the local registry");
    expect(completion.result?.changed_files).toEqual([{ path: "SEEN.md", status: "added" }]);
    expect(registry.requests).toEqual([`GET /${registry.name}`, `GET /${registry.name}/-/${registry.name}-${registry.version}.tgz`]);
  });

  it("fails the setup with npm's own error when the registry is not on the setup's allowlist", async () => {
    await h.start(runner(shellCli("echo the-cli-ran"), { egressAllow: ["elsewhere.codeforge.test"] }));
    const task = h.enqueue({ cli: "script", setup: [install()] });
    registry.requests.length = 0;
    const completion = await h.done(task);
    expect(completion.error?.code).toBe("setup_failed");
    expect(completion.error?.message).toMatch(/^setup command `npm install [^`]+` exited with code 1; its last output:\n[\s\S]*npm error/);
    expect(registry.requests).toEqual([]);
    expect(h.edge.events(task.id)).toContainEqual(expect.objectContaining({ type: "egress_denied", host: REGISTRY_HOST, phase: "setup" }));
    expect(JSON.stringify(h.edge.events(task.id))).not.toContain("the-cli-ran");
  });
});
