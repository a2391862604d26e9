#!/usr/bin/env node
/**
 * The first program inside an attempt's sandbox: a loopback bridge to the egress proxy, and the
 * parent that outlives the CLI.
 *
 *   node sandbox-init.mjs --proxy-socket <path> --listen <port> [--wait-fd <n>] -- <command> [args...]
 *
 * The sandbox's network namespace has only `lo`, and the runner's egress proxy
 * (`runner/src/sandbox/egress-proxy.ts`) listens on a Unix socket bind-mounted in. CLIs and the
 * tools they run know HTTP proxies by URL (`HTTPS_PROXY=http://127.0.0.1:<port>`), not by
 * socket path, so this listens on 127.0.0.1:<port> and pipes each connection to a fresh
 * connection to the socket. With `--wait-fd <n>` it then waits for the runner's word on that
 * inherited pipe: the runner starts the sandbox while it is still cloning the repository, so
 * this program's own start-up (a Node runtime's) is over by the time the checkout is ready,
 * and the CLI starts the moment the runner writes to the pipe; the pipe closing without a word
 * means the attempt ended first (exit 125, the command never runs). Once it listens (and has
 * the word) it runs the command with the same stdio and
 * environment, and exits as the command did: its exit code, or 128 + the signal number when a
 * signal killed it.
 *
 * The runner cancels an attempt by signalling its whole process group, so the command gets
 * SIGTERM/SIGINT/SIGHUP itself. This program must not die of them: the CLI may still want the
 * network while it shuts down (to report, to flush). So it only notes the signal; a signal that
 * arrives before the command started means the attempt was cancelled, and the command is never
 * started. The runner's SIGKILL after its grace period ends both.
 *
 * Exit codes of its own: 127 when the command cannot be started (as a shell does), 125 for a
 * bad command line or a port it cannot listen on.
 *
 * Plain JavaScript, node:* only, no build step: it is on the path of every sandboxed attempt's
 * start, so it loads nothing it does not use.
 */
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { createConnection, createServer } from "node:net";
import { constants } from "node:os";

/** The signal the runner sent, if any; see the docblock. */
let signalled = null;
for (const name of ["SIGTERM", "SIGINT", "SIGHUP"]) {
  process.on(name, () => {
    signalled ??= name;
  });
}

const options = parseArgs(process.argv.slice(2));
if (typeof options === "string") fail(125, options);

// Half-open on both sides: a client that ends its request still reads the whole answer.
const bridge = createServer({ allowHalfOpen: true }, (client) => {
  const upstream = createConnection({ path: options.socket, allowHalfOpen: true });
  client.setNoDelay(true);
  const destroyBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  client.pipe(upstream);
  upstream.pipe(client);
  for (const side of [client, upstream]) {
    side.on("error", destroyBoth);
    side.on("close", destroyBoth);
  }
});
bridge.on("error", (err) => fail(125, `cannot listen on 127.0.0.1:${options.port}: ${err.code ?? err.message}`));
bridge.listen(options.port, "127.0.0.1", () => {
  if (options.waitFd === undefined) return run();
  const word = createReadStream("", { fd: options.waitFd });
  let said = false;
  word.once("data", () => {
    said = true;
    word.destroy();
    run();
  });
  word.once("end", () => said || fail(125, "the runner ended the attempt before the command started"));
  word.once("error", (err) => said || fail(125, `cannot read fd ${options.waitFd}: ${err.code ?? err.message}`));
});

function run() {
  if (signalled) process.exit(128 + constants.signals[signalled]);
  const child = spawn(options.command, options.args, { stdio: "inherit" });
  child.on("error", (err) => fail(127, `cannot start ${options.command}: ${err.code ?? err.message}`));
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}

/** `{ socket, port, waitFd, command, args }`, or what is wrong with the command line. */
function parseArgs(argv) {
  const dashes = argv.indexOf("--");
  const own = dashes === -1 ? argv : argv.slice(0, dashes);
  const [command, ...args] = dashes === -1 ? [] : argv.slice(dashes + 1);
  const usage = "usage: sandbox-init.mjs --proxy-socket <path> --listen <port> [--wait-fd <n>] -- <command> [args...]";
  let socket;
  let port;
  let waitFd;
  for (let i = 0; i < own.length; i += 2) {
    if (own[i] === "--proxy-socket" && own[i + 1]) socket = own[i + 1];
    else if (own[i] === "--listen" && /^[0-9]{1,5}$/.test(own[i + 1] ?? "")) port = Number(own[i + 1]);
    else if (own[i] === "--wait-fd" && /^[0-9]{1,4}$/.test(own[i + 1] ?? "")) waitFd = Number(own[i + 1]);
    else return usage;
  }
  if (!socket || !port || port > 65_535 || !command) return usage;
  return { socket, port, waitFd, command, args };
}

function fail(code, message) {
  process.stderr.write(`sandbox-init: ${message}\n`);
  process.exit(code);
}
