/**
 * The cost of the sandbox's way out: what the egress proxy (`runner/src/sandbox/egress-proxy.ts`)
 * and the in-sandbox bridge (`runner/bin/sandbox-init.mjs`) add to a CLI's requests, and what
 * the init adds to every sandboxed attempt's start.
 *
 *  1. Latency of small sequential HTTP requests to a local origin on 127.0.0.1: direct, and
 *     through the proxy over its Unix socket two ways — (a) a new CONNECT tunnel per request
 *     (a CLI that opens a connection per call: policy check, lookup, connect every time) and
 *     (b) one tunnel kept alive (an HTTPS client with a connection pool: the proxy is then only
 *     a byte pump) — plus the same through the bridge's loopback port, as the CLI sees it, and
 *     absolute-form plain-HTTP requests. Modes run in interleaved rounds, so a busy moment on
 *     the machine falls on all of them alike. Raw HTTP/1.1 on the socket, so the client's own
 *     cost is the same in every row.
 *  2. Start-up: `node sandbox-init.mjs … -- /bin/true` next to `node -e 0`.
 *
 * BENCH_EGRESS_REQUESTS sets the requests per mode (default 2,000).
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCidr } from "#api/cidr.js";
import { startEgressProxy } from "../runner/src/sandbox/egress-proxy.js";
import { freePort } from "../scripts/local-stack.js";
import { printTable, summarize } from "./stats.js";

const REQUESTS = Number(process.env.BENCH_EGRESS_REQUESTS ?? 2_000);
const ROUNDS = 4;
const STARTS = 20;
const HOST = "bench.test.example";
const SANDBOX_INIT = fileURLToPath(new URL("../runner/bin/sandbox-init.mjs", import.meta.url));
const stateDir = mkdtempSync(join(tmpdir(), "codeforge-bench-egress-"));

/** Sub-millisecond figures: a tenth of a millisecond is most of what is being measured here. */
const us = (msValue: number) => (Number.isFinite(msValue) ? `${(msValue * 1_000).toFixed(0)} µs` : "n/a");

async function main(): Promise<void> {
  const origin = http.createServer((_req, res) => res.writeHead(200, { "content-type": "text/plain", "content-length": "2" }).end("ok"));
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
  const originPort = (origin.address() as net.AddressInfo).port;
  const loopback = parseCidr("127.0.0.1/32");
  if (!loopback.ok) throw new Error(loopback.reason);
  const proxy = await startEgressProxy({
    socketPath: join(stateDir, "egress.sock"),
    pool: [`${HOST}:*`],
    task: null,
    allowedNetworks: [loopback.range],
    lookup: async () => ["127.0.0.1"],
    onDenied: (denial) => {
      throw new Error(`unexpected denial: ${JSON.stringify(denial)}`);
    },
  });
  const bridgePort = await freePort();
  const bridge = spawn(process.execPath, [SANDBOX_INIT, "--proxy-socket", proxy.socketPath, "--listen", String(bridgePort), "--", "sleep", "3600"], {
    detached: true,
    stdio: "ignore",
  });
  await waitForPort(bridgePort);
  console.log(`CodeForge egress proxy benchmark — origin on 127.0.0.1, proxy on a Unix socket, Node ${process.version}\n`);

  const toProxy = () => net.connect(proxy.socketPath);
  const toBridge = () => net.connect(bridgePort, "127.0.0.1");
  const target = `${HOST}:${originPort}`;
  // `baseline`: the direct row with the same kind of client connection (0: new, 1: kept alive).
  const modes: { name: string; baseline: 0 | 1; open?: () => Promise<Wire>; once: (wire: Wire | undefined) => Promise<void> }[] = [
    {
      name: "direct, new connection per request",
      baseline: 0,
      once: async () => closeAfter(await opened(net.connect(originPort, "127.0.0.1")), (w) => w.get("/", target)),
    },
    { name: "direct, keep-alive", baseline: 1, open: () => opened(net.connect(originPort, "127.0.0.1")), once: (w) => w!.get("/", target) },
    { name: "(a) proxy, new CONNECT tunnel per request", baseline: 0, once: async () => closeAfter(await tunnel(toProxy, target), (w) => w.get("/", target)) },
    { name: "(b) proxy, one CONNECT tunnel, keep-alive", baseline: 1, open: () => tunnel(toProxy, target), once: (w) => w!.get("/", target) },
    {
      name: "(a) via bridge + proxy, new tunnel per request",
      baseline: 0,
      once: async () => closeAfter(await tunnel(toBridge, target), (w) => w.get("/", target)),
    },
    { name: "(b) via bridge + proxy, one tunnel, keep-alive", baseline: 1, open: () => tunnel(toBridge, target), once: (w) => w!.get("/", target) },
    { name: "proxy, absolute-form GET, keep-alive to proxy", baseline: 1, open: () => opened(toProxy()), once: (w) => w!.get(`http://${target}/`, target) },
  ];

  const samples = modes.map(() => [] as number[]);
  for (let round = -1; round < ROUNDS; round++) {
    // Round -1 warms up every path (JIT, socket buffers) and is not counted.
    const count = round < 0 ? 200 : Math.ceil(REQUESTS / ROUNDS);
    for (const [i, mode] of modes.entries()) {
      const wire = await mode.open?.();
      for (let n = 0; n < count; n++) {
        const t0 = performance.now();
        await mode.once(wire);
        if (round >= 0) samples[i]!.push(performance.now() - t0);
      }
      wire?.socket.destroy();
    }
  }
  const summaries = samples.map(summarize);
  const base = (i: number) => summaries[modes[i]!.baseline]!;
  console.log(
    `1. ${summaries[0]!.count} sequential GETs per mode (2-byte body), ${ROUNDS} interleaved rounds; "added" is over the direct row of the same connection kind`,
  );
  printTable([
    ["mode", "p50", "p99", "added p50", "added p99"],
    ...modes.map((mode, i) => [
      mode.name,
      us(summaries[i]!.p50),
      us(summaries[i]!.p99),
      i < 2 ? "" : us(summaries[i]!.p50 - base(i).p50),
      i < 2 ? "" : us(summaries[i]!.p99 - base(i).p99),
    ]),
  ]);
  console.log();

  startUp(await freePort());

  process.kill(-bridge.pid!, "SIGKILL");
  await proxy.close();
  origin.close();
}

/** Section 2: wall time of starting node with the init around /bin/true, against node alone. */
function startUp(port: number): void {
  const time = (args: string[]) => {
    const t0 = performance.now();
    const run = spawnSync(process.execPath, args, { stdio: "ignore" });
    if (run.status !== 0) throw new Error(`${args.join(" ")} exited ${run.status}`);
    return performance.now() - t0;
  };
  const initArgs = [SANDBOX_INIT, "--proxy-socket", join(stateDir, "unused.sock"), "--listen", String(port), "--", "/bin/true"];
  const plain: number[] = [];
  const init: number[] = [];
  time(["-e", "0"]); // warm the page cache for both
  time(initArgs);
  for (let i = 0; i < STARTS; i++) {
    plain.push(time(["-e", "0"]));
    init.push(time(initArgs));
  }
  const a = summarize(plain);
  const b = summarize(init);
  console.log(`2. Start-up, ${STARTS} interleaved runs each (wall time of the whole process)`);
  printTable([
    ["command", "p50", "p90", "max"],
    ["node -e 0", `${a.p50.toFixed(1)} ms`, `${a.p90.toFixed(1)} ms`, `${a.max.toFixed(1)} ms`],
    ["node sandbox-init.mjs … -- /bin/true", `${b.p50.toFixed(1)} ms`, `${b.p90.toFixed(1)} ms`, `${b.max.toFixed(1)} ms`],
  ]);
  console.log(`   the init adds ${(b.p50 - a.p50).toFixed(1)} ms at p50 (its modules, the listen, and spawning /bin/true)\n`);
}

/** A connection with a read buffer, speaking just enough HTTP/1.1 for the measurements. */
class Wire {
  private buffer: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private failure: Error | null = null;

  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.wake?.();
    });
    socket.on("error", (err) => {
      this.failure = err;
      this.wake?.();
    });
  }

  /** Sends a GET (origin- or absolute-form) and waits for the whole Content-Length response. */
  async get(path: string, host: string): Promise<void> {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    const head = await this.take(headEnd);
    if (!head.startsWith("HTTP/1.1 200")) throw new Error(`unexpected answer: ${head.split("\r\n")[0]}`);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    await this.take((buffer) => (buffer.length >= length ? length : -1));
  }

  /** Waits until `complete` says how many buffered bytes make a whole unit; returns them as text. */
  async take(complete: (buffer: Buffer) => number): Promise<string> {
    for (;;) {
      const size = complete(this.buffer);
      if (size >= 0) {
        const unit = this.buffer.subarray(0, size).toString("latin1");
        this.buffer = this.buffer.subarray(size);
        return unit;
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}

const headEnd = (buffer: Buffer) => {
  const at = buffer.indexOf("\r\n\r\n");
  return at === -1 ? -1 : at + 4;
};

async function opened(socket: net.Socket): Promise<Wire> {
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  return new Wire(socket);
}

async function tunnel(connect: () => net.Socket, target: string): Promise<Wire> {
  const wire = await opened(connect());
  wire.socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  const head = await wire.take(headEnd);
  if (!head.startsWith("HTTP/1.1 200")) throw new Error(`CONNECT refused: ${head.split("\r\n")[0]}`);
  return wire;
}

async function closeAfter(wire: Wire, use: (wire: Wire) => Promise<void>): Promise<void> {
  await use(wire);
  wire.socket.destroy();
}

async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const probe = net.connect(port, "127.0.0.1", () => {
        probe.destroy();
        resolve(true);
      });
      probe.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`sandbox-init never listened on ${port}`);
}

main()
  .then(() => rmSync(stateDir, { recursive: true, force: true }))
  .catch((err) => {
    console.error(err);
    rmSync(stateDir, { recursive: true, force: true });
    process.exit(1);
  });
