/**
 * Starts a throwaway `redis-server` (Debian's package) on a free loopback port, for the tests,
 * the benchmark and trying the Upstash limiter locally. Nothing is persisted (`--save ''`,
 * no AOF), and the process is ours by PID: `stop()` ends exactly it.
 *
 * It also stops itself: a small watchdog ends it when the process that started it is gone
 * (a test run killed mid-way) or after `maxLifetimeMs`, so no Redis outlives its run.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createConnection } from "node:net";
import { freePort } from "./local-stack.js";

export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** The watchdog ends the server after this long, whatever happens (default 30 minutes). */
  maxLifetimeMs?: number;
  readyTimeoutMs?: number;
}

/** True when `redis-server` is on the PATH (`.ci/run` installs it when absent). */
export function redisServerAvailable(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += String(chunk)));
  const exited = once(child, "exit");
  const watchdog = startWatchdog(child.pid!, options.maxLifetimeMs ?? 30 * 60_000);

  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  while (!(await answersPing(port))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not answer PING on port ${port} within the timeout`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      watchdog.kill("SIGKILL");
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => done(String(data).startsWith("+PONG")));
  });
}

/** A detached Node process that kills `pid` once our process is gone or the lifetime is up. */
function startWatchdog(pid: number, maxLifetimeMs: number): ChildProcess {
  const source = `
    const [parent, target, until] = process.argv.slice(1).map(Number);
    const alive = (p) => { try { process.kill(p, 0); return true; } catch { return false; } };
    setInterval(() => {
      if (!alive(target)) process.exit(0);
      if (!alive(parent) || Date.now() > until) {
        // ESRCH: redis-server exited between the check and the kill, which is what we wanted.
        try { process.kill(target, "SIGKILL"); } catch { /* already gone */ }
        process.exit(0);
      }
    }, 1000);`;
  const watchdog = spawn(process.execPath, ["-e", source, String(process.pid), String(pid), String(Date.now() + maxLifetimeMs)], {
    detached: true,
    stdio: "ignore",
  });
  watchdog.unref();
  return watchdog;
}
