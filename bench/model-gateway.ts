/**
 * What the model gateway adds to a model call: the same streamed Messages API call to a local
 * fake of Anthropic's API, made directly and made as Claude Code makes it in a sandbox — through
 * the egress proxy's Unix socket to `model-gateway.codeforge.invalid`, where the gateway swaps
 * the placeholder for the key, forwards the call and reads its usage on the way back. Modes run
 * in interleaved rounds; figures are the whole call and the time to the first streamed byte.
 *
 * BENCH_GATEWAY_CALLS sets the calls per mode (default 1,000).
 * @module
 */
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEgressProxy } from "../runner/src/sandbox/egress-proxy.js";
import { createModelGateway, MODEL_GATEWAY_HOST } from "../runner/src/sandbox/model-gateway.js";
import { startFakeAnthropic } from "../tests/support/fake-anthropic.js";
import { printTable, summarize } from "./stats.js";

const CALLS = Number(process.env.BENCH_GATEWAY_CALLS ?? 1_000);
const ROUNDS = 4;
const KEY = "sk-ant-bench-key";
const us = (msValue: number) => (Number.isFinite(msValue) ? `${(msValue * 1_000).toFixed(0)} µs` : "n/a");

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "codeforge-bench-gateway-"));
  const api = await startFakeAnthropic([{ text: "Hello." }]);
  const gateway = createModelGateway({ upstream: { baseUrl: api.url, header: "x-api-key", key: KEY } });
  const proxy = await startEgressProxy({ socketPath: join(dir, "egress.sock"), pool: [], task: null, onDenied: () => undefined, gateway });
  const body = JSON.stringify({ model: "claude-bench", stream: true, tools: [{ name: "Bash", input_schema: { type: "object" } }], messages: [{ role: "user", content: "hi" }] });
  const direct = new URL(api.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const modes = [
    { name: "direct to the API", options: { host: "127.0.0.1", port: Number(direct.port), path: "/v1/messages", agent, headers: { "x-api-key": KEY } } },
    { name: "through proxy + gateway", options: { socketPath: proxy.socketPath, path: `http://${MODEL_GATEWAY_HOST}/v1/messages`, headers: { "x-api-key": gateway.placeholder } } },
  ];
  const whole = modes.map(() => [] as number[]);
  const firstByte = modes.map(() => [] as number[]);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, mode] of modes.entries()) {
        for (let n = 0; n < CALLS / ROUNDS; n++) {
          const started = performance.now();
          const first = await new Promise<number>((resolve, reject) => {
            const req = http.request({ method: "POST", ...mode.options, headers: { ...mode.options.headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) } });
            req.on("response", (res) => {
              let at = 0;
              res.on("data", () => (at ||= performance.now()));
              res.on("end", () => resolve(at));
              res.on("error", reject);
            });
            req.on("error", reject);
            req.end(body);
          });
          whole[i]!.push(performance.now() - started);
          firstByte[i]!.push(first - started);
        }
      }
    }
  } finally {
    agent.destroy();
    await proxy.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const base = { whole: summarize(whole[0]!), first: summarize(firstByte[0]!) };
  console.log(`\nModel gateway: a streamed Messages API call to a local fake API, ${CALLS} calls per mode, ${ROUNDS} interleaved rounds`);
  printTable([
    ["mode", "call p50", "p99", "added p50", "first byte p50", "p99", "added p50"],
    ...modes.map((mode, i) => {
      const w = summarize(whole[i]!);
      const f = summarize(firstByte[i]!);
      return [mode.name, us(w.p50), us(w.p99), us(w.p50 - base.whole.p50), us(f.p50), us(f.p99), us(f.p50 - base.first.p50)];
    }),
  ]);
  console.log(`the gateway counted ${gateway.usage().calls} calls (${CALLS} made through it)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
