#!/usr/bin/env node
/**
 * A hostile program: does what a prompt-injected agent would try, and says what it got.
 *
 * The runner's self-check (`npm run runner -- --check`) runs it inside a sandbox, and the
 * sandbox tests run it as a task's `script` CLI through a real runner. It reads its targets as
 * JSON on stdin (the prompt) and prints one line per attempt:
 *
 *   PASS <check>: <what happened>   the attempt was refused or contained
 *   FAIL <check>: <what happened>   the attempt got through
 *
 * Targets (each optional): `read` (files to read), `write` (files to create), `connect`
 * (`{host, port}` to open TCP connections to), `dns` (`host:port` of a DNS server to query
 * directly), `secret_sha256` (SHA-256 hex of a secret to look for in every process's
 * environment and command line), `runner_marker` (a string in the runner's command line),
 * `escape_marker` (a string to tag a `setsid` process left running), `forks` (children to try
 * to start at once), `proxy` (`{allowed, denied}`: `host:port`s to reach through
 * `HTTPS_PROXY`), `mode` (`"memory"` with `mb`, `"disk"` with `mb`: hog that much and report;
 * `"run"`: run what an agent runs — `node -e`, `git status`, a failing command — and exit with
 * `exit`).
 * Every attempt is bounded in time, so it ends on its own whatever the sandbox does.
 * @module
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as dnsPromises } from "node:dns";
import { readdirSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import net from "node:net";

const ATTEMPT_TIMEOUT_MS = 1_500;

const targets = JSON.parse(readFileSync(0, "utf8") || "{}");
const say = (ok, check, detail) => process.stdout.write(`${ok ? "PASS" : "FAIL"} ${check}: ${detail}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  if (targets.mode === "memory") return hogMemory(targets.mb ?? 512);
  if (targets.mode === "disk") return fillDisk(targets.mb ?? 64);
  if (targets.mode === "run") return runPrograms(targets.exit ?? 0);

  const status = readFileSync("/proc/self/status", "utf8");
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
  const capEff = /^CapEff:\s+([0-9a-f]+)/m.exec(status)?.[1] ?? "?";
  say(uid !== 0 && /^0+$/.test(capEff), "identity", `uid ${uid}, effective capabilities ${capEff}`);

  for (const file of targets.read ?? []) {
    try {
      const text = readFileSync(file, "utf8");
      say(false, "read", `${file}: read ${text.length} characters`);
    } catch (err) {
      say(true, "read", `${file}: ${err.code}`);
    }
  }
  for (const file of targets.write ?? []) {
    try {
      writeFileSync(file, "written from inside\n");
      say(false, "write", `${file}: created`);
    } catch (err) {
      say(true, "write", `${file}: ${err.code}`);
    }
  }
  for (const [check, file] of [
    ["write-own", "own-checkout-file.txt"],
    ["write-own", `${process.env.HOME}/home-file`],
    ["write-own", `${process.env.TMPDIR ?? "/tmp"}/tmp-file`],
  ]) {
    try {
      writeFileSync(file, "mine\n");
      say(true, check, `${file}: writable, as it should be`);
    } catch (err) {
      say(false, check, `${file}: ${err.code} (the agent's own directories must be writable)`);
    }
  }

  const pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  let secretSeen = false;
  let runnerSeen = false;
  for (const pid of pids) {
    for (const part of ["environ", "cmdline"]) {
      let text = "";
      try {
        text = readFileSync(`/proc/${pid}/${part}`, "latin1");
      } catch {
        continue; // Another user's process or gone: unreadable is what a sandbox wants anyway.
      }
      if (targets.runner_marker && part === "cmdline" && text.includes(targets.runner_marker)) runnerSeen = true;
      if (targets.secret_sha256) {
        for (const entry of text.split("\0")) {
          const value = entry.includes("=") ? entry.slice(entry.indexOf("=") + 1) : entry;
          if (value && createHash("sha256").update(value).digest("hex") === targets.secret_sha256) secretSeen = true;
        }
      }
    }
  }
  if (targets.runner_marker) say(!runnerSeen, "processes", `${pids.length} processes visible; the runner ${runnerSeen ? "is" : "is not"} among them`);
  if (targets.secret_sha256)
    say(!secretSeen, "secret", `the runner secret ${secretSeen ? "was found" : "was not found"} in any process's environment or command line`);

  for (const { host, port } of targets.connect ?? []) {
    const outcome = await connect(host, port);
    say(outcome !== "connected", "connect", `${host}:${port}: ${outcome}`);
  }
  if (targets.dns) {
    const resolver = new dnsPromises.Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([targets.dns]);
    const outcome = await Promise.race([
      resolver.resolve4("example.com").then(
        (a) => `answered ${a.join(",")}`,
        (err) => err.code,
      ),
      sleep(ATTEMPT_TIMEOUT_MS).then(() => "timeout"),
    ]);
    say(outcome.startsWith("ECONNREFUSED") || outcome === "timeout", "dns", `direct query to ${targets.dns}: ${outcome}`);
  }
  for (const [which, target] of Object.entries(targets.proxy ?? {})) {
    const outcome = await throughProxy(target);
    say(which === "allowed" ? outcome.startsWith("200") : !outcome.startsWith("200"), `proxy-${which}`, `${target}: ${outcome}`);
  }
  if (targets.escape_marker) {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", targets.escape_marker], { detached: true, stdio: "ignore" });
    child.unref();
    say(true, "escape", `left pid ${child.pid} running in a session of its own`);
  }
  if (targets.forks) await forkMany(targets.forks);
}

function connect(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (outcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(ATTEMPT_TIMEOUT_MS, () => done("timeout"));
    socket.once("connect", () => done("connected"));
    socket.once("error", (err) => done(err.code ?? err.message));
  });
}

/** A CONNECT through the proxy named by HTTPS_PROXY; its status line, or the error. */
function throughProxy(target) {
  const proxy = process.env.HTTPS_PROXY;
  if (!proxy) return Promise.resolve("no HTTPS_PROXY");
  const { hostname, port } = new URL(proxy);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const done = (outcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(ATTEMPT_TIMEOUT_MS * 2, () => done("timeout"));
    socket.once("connect", () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    socket.once("data", (chunk) =>
      done(
        chunk
          .toString()
          .split("\r\n")[0]
          .replace(/^HTTP\/1\.1 /, ""),
      ),
    );
    socket.once("error", (err) => done(err.code ?? err.message));
  });
}

async function forkMany(count) {
  const children = [];
  let refused = 0;
  for (let i = 0; i < count; i++) {
    const outcome = await new Promise((resolve) => {
      const child = spawn("sleep", ["3"], { stdio: "ignore" });
      child.once("spawn", () => resolve(child));
      child.once("error", (err) => resolve(err.code ?? "error"));
    });
    if (typeof outcome === "string") refused++;
    else children.push(outcome);
  }
  for (const child of children) child.kill("SIGKILL");
  say(refused > 0, "fork", `${children.length} of ${count} processes started, ${refused} refused`);
}

/** Runs programs the way an agent's shell tool does and passes their output through. */
async function runPrograms(exitCode) {
  const run = (command, args) =>
    new Promise((resolve) => {
      const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"] });
      child.once("error", (err) => resolve(`error ${err.code}`));
      child.once("exit", (code) => resolve(code));
    });
  process.stdout.write(`node: ${await run("node", ["-e", "console.log('six times seven is', 6 * 7)"])}\n`);
  process.stdout.write(`git: ${await run("git", ["status", "--short", "--branch"])}\n`);
  process.stdout.write(`failing: ${await run("ls", ["/no/such/dir"])}\n`);
  process.exitCode = exitCode;
}

async function hogMemory(mb) {
  const kept = [];
  for (let i = 0; i < mb / 16; i++) {
    kept.push(Buffer.alloc(16 * 1_048_576, 1));
    await sleep(5);
  }
  say(false, "memory", `allocated ${kept.length * 16} MiB`);
}

async function fillDisk(mb) {
  const fd = openSync("filler.bin", "w");
  const chunk = Buffer.alloc(1_048_576, 7);
  try {
    for (let i = 0; i < mb; i++) {
      writeSync(fd, chunk);
      await sleep(40);
    }
  } finally {
    closeSync(fd);
  }
  say(false, "disk", `wrote ${mb} MiB`);
}

await main();
