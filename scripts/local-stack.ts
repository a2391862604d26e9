/**
 * Starts CodeForge's processes on this machine: the edge under `wrangler dev` and runners as
 * plain Node processes. Used by `npm start`, the end-to-end tests and the benchmarks, so all
 * three run the same thing the same way.
 *
 * Each process leads its own process group (wrangler starts workerd beneath it), and `stop()`
 * signals the whole group, so nothing is left holding a port.
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file lives in `scripts/`). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Where its stdout and stderr go. */
  readonly logFile: string;
  /** Where this run's lines begin in `logFile` (earlier runs' lines come before). */
  readonly logOffset: number;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function manage(name: string, child: ChildProcess, logFile: string, logOffset: number): ManagedProcess {
  const exited = once(child, "exit").then(() => undefined);
  return {
    name,
    child,
    logFile,
    logOffset,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const group = -child.pid!;
      try {
        process.kill(group, signal);
      } catch {
        return; // the group is already gone
      }
      const killer = setTimeout(() => {
        try {
          process.kill(group, "SIGKILL");
        } catch {
          // exited between the grace period and now
        }
      }, 5_000);
      await exited;
      // The leader can go before the rest of its group (wrangler before its workerd, which holds
      // the state directory): wait for them all, so a stack started next finds everything free.
      // (Bounded: a zombie nobody reaps still counts as a member.)
      const deadline = Date.now() + 6_000;
      while (groupAlive(group) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      clearTimeout(killer);
    },
  };
}

function groupAlive(group: number): boolean {
  try {
    process.kill(group, 0);
    return true;
  } catch {
    return false;
  }
}

function spawnLogged(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): ManagedProcess {
  mkdirSync(dirname(logFile), { recursive: true });
  const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
  const log = createWriteStream(logFile, { flags: "a", mode: 0o600 });
  const child = spawn(command, args, { cwd: PROJECT_ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return manage(name, child, logFile, logOffset);
}

export interface EdgeOptions {
  port: number;
  /** Directory for the env file, the log and (unless `persistTo`) the Durable Object state. */
  stateDir: string;
  persistTo?: string;
  vars: Record<string, string>;
  readyTimeoutMs?: number;
}

/** Starts `wrangler dev` and resolves once `/health` answers. */
export async function startEdge(options: EdgeOptions): Promise<ManagedProcess & { url: string }> {
  mkdirSync(options.stateDir, { recursive: true });
  const envFile = join(options.stateDir, "edge.vars");
  // Secrets go to wrangler through a file only we can read, never through argv (visible in ps).
  writeFileSync(envFile, envFileText(options.vars), { mode: 0o600 });
  const args = [
    join(PROJECT_ROOT, "node_modules", "wrangler", "bin", "wrangler.js"),
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(options.port),
    "--env-file",
    envFile,
    "--persist-to",
    options.persistTo ?? join(options.stateDir, "edge-state"),
    "--show-interactive-dev-session=false",
    // Worker logs only: a line per request through wrangler's own process costs throughput.
    "--log-level",
    "log",
  ];
  const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };
  const proc = spawnLogged("edge", process.execPath, args, env, join(options.stateDir, "edge.log"));
  const url = `http://127.0.0.1:${options.port}`;
  await waitForHealth(`${url}/health`, proc, options.readyTimeoutMs ?? 60_000);
  return Object.assign(proc, { url });
}

/**
 * The text of an env file (`wrangler dev --env-file`) that gives the Worker exactly `vars`.
 * wrangler reads it as dotenv and then expands `$NAME` in it, so each `$` is escaped; a value
 * with a line break (a PEM private key), a `#`, a leading quote or surrounding spaces is quoted
 * with a quote character it does not contain. A value no quoting can carry (a carriage return,
 * say) is refused, naming the variable, rather than reaching the Worker changed.
 */
export function envFileText(vars: Readonly<Record<string, string>>): string {
  const lines = Object.entries(vars).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`${JSON.stringify(name)} is not a variable name wrangler dev can take`);
    const escaped = value.replaceAll("$", "\\$");
    if (!/[#\r\n]|^\s|\s$|^['"`]/.test(escaped)) return `${name}=${escaped}`;
    // Inside quotes, a closing quote or a backslash before the closing quote would end the value
    // elsewhere; inside double quotes, dotenv turns a backslash-n into a line break.
    const quote =
      escaped.includes("\r") || escaped.endsWith("\\")
        ? undefined
        : ["'", "`", '"'].find((q) => !escaped.includes(q) && (q !== '"' || !/\\[nr]/.test(escaped)));
    if (quote === undefined) throw new Error(`${name}'s value cannot be passed to wrangler dev (it has a carriage return, or every quote character)`);
    return `${name}=${quote}${escaped}${quote}`;
  });
  return `${lines.join("\n")}\n`;
}

export interface RunnerOptions {
  edgeUrl: string;
  secret: string;
  runnerId: string;
  stateDir: string;
  concurrency?: number;
  localMode?: boolean;
  healthPort?: number;
  env?: Record<string, string>;
  /** Command-line arguments after the runner's own command (`--once`, say). */
  args?: string[];
}

/** How a runner is started, relative to the project root: the container image runs the same. */
export const RUNNER_COMMAND = ["node", "--import", "tsx", "runner/src/main.ts"] as const;

/** Starts a runner process (`runner/src/main.ts` under tsx). */
export function startRunner(options: RunnerOptions): ManagedProcess {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: process.env.LANG ?? "C.UTF-8",
    CODEFORGE_EDGE_URL: options.edgeUrl,
    CODEFORGE_RUNNER_SECRET: options.secret,
    CODEFORGE_RUNNER_ID: options.runnerId,
    CODEFORGE_CONCURRENCY: String(options.concurrency ?? 2),
    CODEFORGE_LOCAL_MODE: options.localMode === false ? "false" : "true",
    CODEFORGE_HEALTH_PORT: String(options.healthPort ?? 0),
    CODEFORGE_WORKSPACE_ROOT: join(options.stateDir, "workspaces", options.runnerId),
    ...options.env,
  };
  const [, ...args] = RUNNER_COMMAND;
  return spawnLogged(
    `runner ${options.runnerId}`,
    process.execPath,
    [...args, ...(options.args ?? [])],
    env,
    join(options.stateDir, `runner-${options.runnerId}.log`),
  );
}

async function waitForHealth(url: string, proc: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with code ${proc.child.exitCode}:${lastLines(proc, 3)}\n  (log: ${proc.logFile})`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  await proc.stop();
  throw new Error(`${proc.name} did not become healthy within ${timeoutMs} ms; see ${proc.logFile}`);
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/**
 * Whether `port` on `host` is taken: tries to bind it, and lets go at once. Any other failure to
 * bind (no permission for a low port, say) is thrown.
 */
export async function portInUse(port: number, host = "127.0.0.1"): Promise<boolean> {
  const { createServer } = await import("node:net");
  const server = createServer();
  const outcome = new Promise<boolean>((resolve, reject) => {
    server.once("listening", () => resolve(false));
    server.once("error", (err: NodeJS.ErrnoException) => (err.code === "EADDRINUSE" ? resolve(true) : reject(err)));
  });
  server.listen({ port, host, exclusive: true });
  const inUse = await outcome;
  if (!inUse) await new Promise<void>((resolve) => server.close(() => resolve()));
  return inUse;
}

/** Waits until `url` answers 200, or `proc` exits (then throws with the end of its log), or the time is up (then resolves false). */
export async function waitForOk(url: string, proc: ManagedProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null)
      throw new Error(`${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode}):${lastLines(proc, 3)}\n  (log: ${proc.logFile})`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return false;
}

/** The last lines this run of `proc` logged, each on a line of its own, indented. */
function lastLines(proc: ManagedProcess, count: number): string {
  try {
    // A stack trace's frames say less than the message above them.
    const text = readFileSync(proc.logFile).subarray(proc.logOffset).toString("utf8");
    const lines = text.split("\n").filter((line) => line.trim() !== "" && !/^\s+at /.test(line));
    return lines
      .slice(-count)
      .map((line) => `\n  ${line}`)
      .join("");
  } catch {
    return " (no log)";
  }
}
