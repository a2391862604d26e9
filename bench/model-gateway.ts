/**
 * What the model gateway adds to a model call: the same streamed call to a local fake of each
 * provider's API, made directly and made as a CLI makes it in a sandbox — through the egress
 * proxy's Unix socket to `model-gateway.codeforge.invalid`, where the gateway swaps the
 * placeholder for the key, forwards the call and meters and prices its usage on the way back.
 * Three APIs: Anthropic Messages, OpenAI Responses and Gemini `streamGenerateContent?alt=sse`.
 * Modes run in interleaved rounds; figures are the whole call and the time to the first
 * streamed byte.
 *
 * BENCH_GATEWAY_CALLS sets the calls per mode (default 1,000).
 * @module
 */
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEgressProxy, type EgressProxy } from "../runner/src/sandbox/egress-proxy.js";
import { createModelGateway, MODEL_GATEWAY_HOST, type ModelGateway, type ModelUpstream } from "../runner/src/sandbox/model-gateway.js";
import { startFakeAnthropic } from "../tests/support/fake-anthropic.js";
import { startFakeModelApis } from "../tests/support/fake-model-apis.js";
import { printTable, summarize } from "./stats.js";

const CALLS = Number(process.env.BENCH_GATEWAY_CALLS ?? 1_000);
const ROUNDS = 4;
const KEY = "sk-bench-key";
const us = (msValue: number) => (Number.isFinite(msValue) ? `${(msValue * 1_000).toFixed(0)} µs` : "n/a");

interface Mode {
  name: string;
  options: http.RequestOptions;
  body: string;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "codeforge-bench-gateway-"));
  const anthropic = await startFakeAnthropic([{ text: "Hello." }]);
  const apis = await startFakeModelApis();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const proxies: EgressProxy[] = [];
  const gateways: ModelGateway[] = [];
  /** A gateway for `upstream` behind its own egress proxy, as one attempt has it. */
  const through = async (upstream: ModelUpstream) => {
    const gateway = createModelGateway({ upstream, budget: { maxCostUsd: 1e9, maxTokens: null, spentCostUsd: 0, spentTokens: 0 } });
    const proxy = await startEgressProxy({ socketPath: join(dir, `egress-${proxies.length}.sock`), pool: [], task: null, onDenied: () => undefined, gateway });
    gateways.push(gateway);
    proxies.push(proxy);
    return { gateway, socketPath: proxy.socketPath };
  };
  const direct = (base: string, path: string, headers: Record<string, string>): http.RequestOptions => {
    const url = new URL(base);
    return { host: url.hostname, port: Number(url.port), path, agent, headers };
  };

  const messages = await through({ baseUrl: anthropic.url, header: "x-api-key", key: KEY });
  const responses = await through({ baseUrl: apis.url, header: "authorization", key: KEY });
  const gemini = await through({ baseUrl: apis.url, header: "x-goog-api-key", key: KEY });
  const messagesBody = JSON.stringify({
    model: "claude-sonnet-4-5",
    stream: true,
    tools: [{ name: "Bash", input_schema: { type: "object" } }],
    messages: [{ role: "user", content: "hi" }],
  });
  const responsesBody = JSON.stringify({ model: "gpt-5-codex", stream: true, input: "hi" });
  const geminiBody = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });
  const geminiPath = "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse";
  const modes: Mode[] = [
    { name: "Anthropic Messages, direct", options: direct(anthropic.url, "/v1/messages", { "x-api-key": KEY }), body: messagesBody },
    {
      name: "  through proxy + gateway",
      options: { socketPath: messages.socketPath, path: `http://${MODEL_GATEWAY_HOST}/v1/messages`, headers: { "x-api-key": messages.gateway.placeholder } },
      body: messagesBody,
    },
    { name: "OpenAI Responses, direct", options: direct(apis.url, "/v1/responses", { authorization: `Bearer ${KEY}` }), body: responsesBody },
    {
      name: "  through proxy + gateway",
      options: {
        socketPath: responses.socketPath,
        path: `http://${MODEL_GATEWAY_HOST}/v1/responses`,
        headers: { authorization: `Bearer ${responses.gateway.placeholder}` },
      },
      body: responsesBody,
    },
    { name: "Gemini stream, direct", options: direct(apis.url, geminiPath, { "x-goog-api-key": KEY }), body: geminiBody },
    {
      name: "  through proxy + gateway",
      options: { socketPath: gemini.socketPath, path: `http://${MODEL_GATEWAY_HOST}${geminiPath}`, headers: { "x-goog-api-key": gemini.gateway.placeholder } },
      body: geminiBody,
    },
  ];
  const whole = modes.map(() => [] as number[]);
  const firstByte = modes.map(() => [] as number[]);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, mode] of modes.entries()) {
        for (let n = 0; n < CALLS / ROUNDS; n++) {
          const started = performance.now();
          const first = await new Promise<number>((resolve, reject) => {
            const req = http.request({
              method: "POST",
              ...mode.options,
              headers: { ...mode.options.headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(mode.body)) },
            });
            req.on("response", (res) => {
              let at = 0;
              res.on("data", () => (at ||= performance.now()));
              res.on("end", () => resolve(at));
              res.on("error", reject);
            });
            req.on("error", reject);
            req.end(mode.body);
          });
          whole[i]!.push(performance.now() - started);
          firstByte[i]!.push(first - started);
        }
      }
    }
  } finally {
    agent.destroy();
    for (const proxy of proxies) await proxy.close();
    await anthropic.close();
    await apis.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nModel gateway: a streamed call to a local fake of each API, ${CALLS} calls per mode, ${ROUNDS} interleaved rounds`);
  printTable([
    ["mode", "call p50", "p99", "added p50", "first byte p50", "p99", "added p50"],
    ...modes.map((mode, i) => {
      // Each gateway row is compared with the direct row above it.
      const base = i % 2 === 1 ? { whole: summarize(whole[i - 1]!), first: summarize(firstByte[i - 1]!) } : null;
      const w = summarize(whole[i]!);
      const f = summarize(firstByte[i]!);
      return [mode.name, us(w.p50), us(w.p99), base ? us(w.p50 - base.whole.p50) : "", us(f.p50), us(f.p99), base ? us(f.p50 - base.first.p50) : ""];
    }),
  ]);
  const counted = gateways.map((g) => {
    const usage = g.usage();
    return `${usage.calls} calls, $${(usage.cost_usd ?? 0).toFixed(2)}`;
  });
  console.log(`the gateways metered: Messages ${counted[0]}; Responses ${counted[1]}; Gemini ${counted[2]} (${CALLS} made through each)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
