// Integration: the model gateway behind the egress proxy, over real sockets — the proxy on a
// Unix socket as the sandbox reaches it, and local fakes of Anthropic's, OpenAI's and Google's
// model APIs as upstreams. The placeholder goes in (in whichever place each provider's clients
// put keys), the operator's key comes out, the answer streams back, the usage of every call is
// metered and priced per model, and calls past the task's budget are refused.
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEgressProxy, type EgressDenial, type EgressProxy } from "../../runner/src/sandbox/egress-proxy.js";
import {
  createModelGateway,
  MODEL_GATEWAY_HOST,
  type ModelGateway,
  type ModelGatewayOptions,
  type ModelUpstream,
} from "../../runner/src/sandbox/model-gateway.js";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.js";
import { startFakeModelApis, type FakeModelApis } from "../support/fake-model-apis.js";

const OPERATOR_KEY = "sk-ant-api03-operator-key-0000000000000000";
const OPENAI_KEY = "sk-proj-operator-openai-key-1111111111";
const GEMINI_KEY = "AIzaSy-operator-gemini-key-22222222222";
const KEYS = [OPERATOR_KEY, OPENAI_KEY, GEMINI_KEY];
let dir: string;
let api: FakeAnthropic;
let apis: FakeModelApis;
let proxy: EgressProxy | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "cf-gateway-"));
  api = await startFakeAnthropic([{ tool: "Bash", input: { command: "true" } }, { text: "Done." }]);
  apis = await startFakeModelApis();
});
afterAll(async () => {
  await api.close();
  await apis.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function start(withGateway: boolean, options: Partial<ModelGatewayOptions> = {}): Promise<{ gateway: ModelGateway; denials: EgressDenial[] }> {
  const gateway = createModelGateway({ upstream: { baseUrl: api.url, header: "x-api-key", key: OPERATOR_KEY }, ...options });
  const denials: EgressDenial[] = [];
  proxy = await startEgressProxy({
    socketPath: path.join(mkdtempSync(path.join(dir, "p")), "egress.sock"),
    pool: [],
    task: null,
    onDenied: (denial) => denials.push(denial),
    ...(withGateway ? { gateway } : {}),
  });
  return { gateway, denials };
}

const openai = (): ModelUpstream => ({ baseUrl: apis.url, header: "authorization", key: OPENAI_KEY });
const google = (): ModelUpstream => ({ baseUrl: apis.url, header: "x-goog-api-key", key: GEMINI_KEY });

interface Answer {
  status: number;
  text: string;
  headers: http.IncomingHttpHeaders;
}

/** A model API call as a CLI in the sandbox makes it: absolute-form, through the proxy. No answer ever holds an operator's key. */
function request(pathAndQuery: string, headers: Record<string, string>, body: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      socketPath: proxy!.socketPath,
      method: "POST",
      path: `http://${MODEL_GATEWAY_HOST}${pathAndQuery}`,
      headers: { "content-type": "application/json", ...headers },
    });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      const done = () => {
        const leaked = KEYS.find((key) => text.includes(key) || JSON.stringify(res.headers).includes(key));
        if (leaked) reject(new Error("an operator's key is in the answer"));
        else resolve({ status: res.statusCode ?? 0, text, headers: res.headers });
      };
      res.on("end", done);
      res.on("aborted", done);
      res.on("error", done);
    });
    req.on("error", reject);
    req.end(typeof body === "string" ? body : JSON.stringify(body));
  });
}

/** A Messages API call as Claude Code makes it. */
function call(key: string | null, body: Record<string, unknown>): Promise<Answer> {
  return request("/v1/messages", { ...(key ? { "x-api-key": key } : {}), "anthropic-version": "2023-06-01" }, body);
}

/** What reached the fake OpenAI/Gemini upstream since `before`, with no placeholder anywhere in it. */
function reached(before: number, gateway: ModelGateway) {
  const seen = apis.requests.slice(before);
  for (const r of seen) expect(JSON.stringify(r)).not.toContain(gateway.placeholder);
  return seen;
}

const TOOLS = [{ name: "Bash", input_schema: { type: "object" } }];

describe("model gateway", () => {
  it("swaps the placeholder for the operator's key, streams the answer back and sums the usage per model", async () => {
    const { gateway } = await start(true);
    const before = api.requests.length;
    const streamed = await call(gateway.placeholder, { model: "claude-test-1", stream: true, tools: TOOLS, messages: [{ role: "user", content: "hi" }] });
    expect(streamed.status).toBe(200);
    expect(streamed.headers["content-type"]).toContain("text/event-stream");
    expect(streamed.text).toContain("event: message_stop");
    const whole = await call(gateway.placeholder, { model: "claude-sonnet-4-5-20250929", messages: [{ role: "user", content: "title?" }] });
    expect(JSON.parse(whole.text)).toMatchObject({ type: "message", usage: { input_tokens: 100, output_tokens: 20 } });
    const seen = api.requests.slice(before);
    expect(seen.map((r) => r.key)).toEqual([OPERATOR_KEY, OPERATOR_KEY]);
    // Sonnet 4.5 at $3 in / $15 out per million; the test model has no price, so neither has the total.
    expect(gateway.usage()).toEqual({
      calls: 2,
      input_tokens: 200,
      output_tokens: 40,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
      cost_usd: null,
      by_model: {
        "claude-test-1": { calls: 1, input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, cost_usd: null },
        "claude-sonnet-4-5-20250929": {
          calls: 1,
          input_tokens: 100,
          output_tokens: 20,
          cache_read_input_tokens: 0,
          cache_creation_input_tokens: 0,
          cost_usd: 0.0006,
        },
      },
    });
  });

  it("refuses any other credential, and never calls the upstream for it", async () => {
    const { gateway } = await start(true);
    const before = api.requests.length;
    for (const key of [null, "sk-ant-someone-elses-key", OPERATOR_KEY]) {
      const answer = await call(key, { model: "m", messages: [] });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.text)).toEqual({
        type: "error",
        error: { type: "authentication_error", message: "the model gateway accepts only the credential this attempt was given" },
      });
    }
    // The placeholder in one place and anything else in another is not the placeholder.
    const mixed = await request("/v1/messages", { "x-api-key": gateway.placeholder, authorization: "Bearer sk-other" }, { model: "m", messages: [] });
    expect(mixed.status).toBe(401);
    expect(api.requests.length).toBe(before);
    expect(gateway.usage().calls).toBe(0);
  });

  it("refuses a wrong credential in the shape of the provider the CLI calls", async () => {
    const { gateway } = await start(true, { upstream: openai() });
    const before = apis.requests.length;
    const responses = await request("/v1/responses", { authorization: "Bearer sk-wrong" }, { model: "gpt-5", input: "hi" });
    expect(responses.status).toBe(401);
    expect(JSON.parse(responses.text)).toEqual({
      error: {
        message: "the model gateway accepts only the credential this attempt was given",
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    });
    // The operator's real key given back to the gateway is refused too, and not echoed.
    const gemini = await request(`/v1beta/models/gemini-2.5-pro:generateContent?key=${GEMINI_KEY}`, {}, { contents: [] });
    expect(gemini.status).toBe(401);
    expect(JSON.parse(gemini.text)).toEqual({
      error: { code: 401, message: "the model gateway accepts only the credential this attempt was given", status: "UNAUTHENTICATED" },
    });
    expect(apis.requests.length).toBe(before);
    expect(gateway.usage().calls).toBe(0);
  });

  it("sends the key only to the upstream, whatever host a path names", async () => {
    const elsewhere: string[] = [];
    const thief = http.createServer((req, res) => {
      elsewhere.push(JSON.stringify(req.headers));
      res.end();
    });
    await new Promise<void>((resolve) => thief.listen(0, "127.0.0.1", resolve));
    try {
      const { gateway } = await start(true, { upstream: openai() });
      const before = apis.requests.length;
      const { port } = thief.address() as net.AddressInfo;
      const answer = await request(`//127.0.0.1:${port}/v1/responses`, { authorization: `Bearer ${gateway.placeholder}` }, { model: "gpt-5", input: "hi" });
      expect(elsewhere).toEqual([]);
      expect(reached(before, gateway).map((r) => r.url)).toEqual([`//127.0.0.1:${port}/v1/responses`]);
      expect(answer.status).toBe(200);
    } finally {
      await new Promise((resolve) => thief.close(resolve));
    }
  });

  it("meters OpenAI's Responses API, streamed and not: cached tokens out of input, reasoning in output", async () => {
    const calls: unknown[] = [];
    const { gateway } = await start(true, { upstream: openai(), onCall: (model, tokens, totals) => calls.push({ model, tokens, calls: totals.calls }) });
    const before = apis.requests.length;
    const streamed = await request("/v1/responses", { authorization: `Bearer ${gateway.placeholder}` }, { model: "gpt-5-codex", stream: true, input: "hi" });
    expect(streamed.status).toBe(200);
    expect(streamed.text).toContain("event: response.completed");
    // Codex's base URL holds /v1 itself: the path is then /responses.
    const whole = await request("/responses", { authorization: `Bearer ${gateway.placeholder}` }, { model: "gpt-5-mini-2025-08-07", input: "hi" });
    expect(JSON.parse(whole.text)).toMatchObject({ object: "response", usage: { input_tokens: 1_200 } });
    const seen = reached(before, gateway);
    expect(seen.map((r) => [r.url, r.headers.authorization])).toEqual([
      ["/v1/responses", `Bearer ${OPENAI_KEY}`],
      ["/responses", `Bearer ${OPENAI_KEY}`],
    ]);
    const tokens = { input_tokens: 200, output_tokens: 300, cache_read_input_tokens: 1_000, cache_creation_input_tokens: 0 };
    // gpt-5-codex: 200 × $1.25 + 300 × $10 + 1,000 × $0.125 per million = $0.003375; gpt-5-mini a fifth of it.
    expect(calls).toEqual([
      { model: "gpt-5-codex", tokens: { ...tokens, cost_usd: 0.003375 }, calls: 1 },
      { model: "gpt-5-mini-2025-08-07", tokens: { ...tokens, cost_usd: 0.000675 }, calls: 2 },
    ]);
    expect(gateway.usage()).toMatchObject({ calls: 2, input_tokens: 400, output_tokens: 600, cache_read_input_tokens: 2_000, cost_usd: 0.00405 });
  });

  it("asks a streamed Chat Completions call for its usage, so every call is metered; leaves other bodies as they came", async () => {
    const { gateway } = await start(true, { upstream: openai() });
    const before = apis.requests.length;
    const auth = { authorization: `Bearer ${gateway.placeholder}` };
    const asked = { model: "gpt-4.1-2025-04-14", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] };
    const plain = { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hi" }] };
    const whole = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] };
    expect((await request("/v1/chat/completions", auth, plain)).text).toContain('"usage":{"prompt_tokens":500');
    expect((await request("/v1/chat/completions", auth, asked)).text).toContain("data: [DONE]");
    expect(JSON.parse((await request("/v1/chat/completions", auth, whole)).text)).toMatchObject({ usage: { prompt_tokens: 500 } });
    const seen = reached(before, gateway);
    expect(JSON.parse(seen[0]!.body)).toEqual({ ...plain, stream_options: { include_usage: true } });
    expect(seen[0]!.headers["content-length"]).toBe(String(Buffer.byteLength(seen[0]!.body)));
    expect(seen[1]!.body).toBe(JSON.stringify(asked));
    expect(seen[2]!.body).toBe(JSON.stringify(whole));
    const each = { calls: 1, input_tokens: 300, output_tokens: 50, cache_read_input_tokens: 200, cache_creation_input_tokens: 0 };
    expect(gateway.usage().by_model).toEqual({
      "gpt-4o-mini": { ...each, cost_usd: expect.closeTo((300 * 0.15 + 50 * 0.6 + 200 * 0.075) / 1e6, 12) },
      "gpt-4.1-2025-04-14": { ...each, cost_usd: expect.closeTo((300 * 2 + 50 * 8 + 200 * 0.5) / 1e6, 12) },
      "gpt-4o": { ...each, cost_usd: expect.closeTo((300 * 2.5 + 50 * 10 + 200 * 1.25) / 1e6, 12) },
    });
  });

  it("sends a Chat Completions body over 8 MiB on as it came, unheld", async () => {
    const { gateway } = await start(true, { upstream: openai() });
    const before = apis.requests.length;
    const big = JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "x".repeat(9 * 1_048_576) }] });
    const answer = await request("/v1/chat/completions", { authorization: `Bearer ${gateway.placeholder}` }, big);
    expect(answer.text).toContain("data: [DONE]");
    const [seen] = reached(before, gateway);
    expect(seen!.body.length).toBe(big.length);
    expect(seen!.body === big).toBe(true);
    // Not asked for its usage, the stream reported none: the call counts, without tokens.
    expect(gateway.usage().by_model["gpt-4o-mini"]).toMatchObject({ calls: 1, input_tokens: 0, output_tokens: 0 });
  });

  it("meters Gemini with the key as x-goog-api-key or ?key=, streamed (the last cumulative count wins) and not (the model from the path)", async () => {
    const { gateway } = await start(true, { upstream: google() });
    const before = apis.requests.length;
    const streamed = await request(
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
      { "x-goog-api-key": gateway.placeholder },
      { contents: [] },
    );
    expect(streamed.text).toContain('"finishReason":"STOP"');
    const whole = await request(`/v1beta/models/gemini-2.5-pro:generateContent?key=${gateway.placeholder}`, {}, { contents: [] });
    expect(JSON.parse(whole.text)).toMatchObject({ usageMetadata: { promptTokenCount: 2_400 } });
    const array = await request(`/v1beta/models/gemini-2.0-flash:streamGenerateContent?key=${gateway.placeholder}&x=1`, {}, { contents: [] });
    expect(JSON.parse(array.text)).toHaveLength(3);
    const seen = reached(before, gateway);
    expect(seen.map((r) => [r.url, r.headers["x-goog-api-key"]])).toEqual([
      ["/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", GEMINI_KEY],
      ["/v1beta/models/gemini-2.5-pro:generateContent", GEMINI_KEY],
      ["/v1beta/models/gemini-2.0-flash:streamGenerateContent?x=1", GEMINI_KEY],
    ]);
    const each = { calls: 1, input_tokens: 2_000, output_tokens: 100, cache_read_input_tokens: 400, cache_creation_input_tokens: 0 };
    expect(gateway.usage().by_model).toEqual({
      "gemini-2.5-flash-001": { ...each, cost_usd: expect.closeTo((2_000 * 0.3 + 100 * 2.5 + 400 * 0.03) / 1e6, 12) },
      "gemini-2.5-pro": { ...each, cost_usd: expect.closeTo((2_000 * 1.25 + 100 * 10 + 400 * 0.125) / 1e6, 12) },
      "gemini-2.0-flash-001": { ...each, cost_usd: expect.closeTo((2_000 * 0.1 + 100 * 0.4 + 400 * 0.025) / 1e6, 12) },
    });
  });

  it("counts what a stream cut short had reported", async () => {
    const { gateway } = await start(true, { upstream: google() });
    await request(
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
      { "x-goog-api-key": gateway.placeholder, "x-fake-cut": "1" },
      { contents: [] },
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Cut after its second chunk: 40 candidate tokens so far, no thoughts yet.
    expect(gateway.usage().by_model).toEqual({
      "gemini-2.5-flash-001": {
        calls: 1,
        input_tokens: 2_000,
        output_tokens: 40,
        cache_read_input_tokens: 400,
        cache_creation_input_tokens: 0,
        cost_usd: expect.any(Number),
      },
    });
  });

  it("refuses calls once the budget is spent, in the provider's shape, and says so once", async () => {
    const reasons: string[] = [];
    const { gateway } = await start(true, {
      upstream: openai(),
      // $1,000 per million output tokens: one call's 300 cost $0.30 (input and cache free here).
      prices: { "gpt-test": { input: 0, output: 1_000, cache_read: 0 } },
      budget: { maxCostUsd: 0.5, maxTokens: null, spentCostUsd: 0.25, spentTokens: 0 },
      onBudgetExceeded: (reason) => reasons.push(reason),
    });
    const before = apis.requests.length;
    const auth = { authorization: `Bearer ${gateway.placeholder}` };
    const first = await request("/v1/responses", auth, { model: "gpt-test", input: "hi" });
    expect(first.status).toBe(200);
    expect(reasons).toEqual(["CodeForge budget exceeded: spent $0.55 of $0.50"]);
    for (const path of ["/v1/responses", "/v1/chat/completions"]) {
      const refused = await request(path, auth, { model: "gpt-test", stream: true, input: "hi" });
      expect(refused.status).toBe(400);
      expect(refused.headers["x-should-retry"]).toBe("false");
      expect(JSON.parse(refused.text)).toEqual({
        error: { message: "CodeForge budget exceeded: spent $0.55 of $0.50", type: "invalid_request_error", param: null, code: "budget_exceeded" },
      });
    }
    expect(apis.requests.length).toBe(before + 1);
    expect(reasons).toHaveLength(1);
    expect(gateway.usage()).toMatchObject({ calls: 1, cost_usd: 0.3 });
  });

  it("refuses the first call when earlier attempts spent the token budget, in Anthropic's and Gemini's shapes", async () => {
    const reasons: string[] = [];
    const budget = { maxCostUsd: null, maxTokens: 10_000, spentCostUsd: 0, spentTokens: 10_000 };
    const { gateway } = await start(true, { budget, onBudgetExceeded: (reason) => reasons.push(reason) });
    const before = api.requests.length;
    const anthropic = await call(gateway.placeholder, { model: "claude-sonnet-4-5", messages: [] });
    expect(anthropic.status).toBe(402);
    expect(JSON.parse(anthropic.text)).toEqual({
      type: "error",
      error: { type: "billing_error", message: "CodeForge budget exceeded: spent 10,000 tokens of 10,000" },
    });
    const gemini = await request(`/v1beta/models/gemini-2.5-pro:generateContent?key=${gateway.placeholder}`, {}, { contents: [] });
    expect(gemini.status).toBe(400);
    expect(JSON.parse(gemini.text)).toEqual({
      error: { code: 400, message: "CodeForge budget exceeded: spent 10,000 tokens of 10,000", status: "INVALID_ARGUMENT" },
    });
    expect(api.requests.length).toBe(before);
    expect(reasons).toEqual(["CodeForge budget exceeded: spent 10,000 tokens of 10,000"]);
  });

  it("counts a model without a price in tokens only against a cost budget, and says so", async () => {
    const reasons: string[] = [];
    const { gateway } = await start(true, {
      budget: { maxCostUsd: 0.0001, maxTokens: null, spentCostUsd: 0, spentTokens: 0 },
      onBudgetExceeded: (reason) => reasons.push(reason),
    });
    await call(gateway.placeholder, { model: "claude-unlisted-9", messages: [] });
    expect(reasons).toEqual([]);
    expect(gateway.usage().cost_usd).toBeNull();
    // 100 × $3 + 20 × $15 per million = $0.0006 for Sonnet: past the limit.
    await call(gateway.placeholder, { model: "claude-sonnet-4-20250514", messages: [] });
    expect(reasons).toEqual(["CodeForge budget exceeded: spent $0.0006 of $0.0001 (calls to claude-unlisted-9 not counted: no price for them)"]);
    expect((await call(gateway.placeholder, { model: "claude-unlisted-9", messages: [] })).status).toBe(402);
  });

  it("is plain http only: a CONNECT to it is refused", async () => {
    await start(true);
    const socket = net.connect(proxy!.socketPath);
    socket.end(`CONNECT ${MODEL_GATEWAY_HOST}:443 HTTP/1.1\r\nHost: ${MODEL_GATEWAY_HOST}:443\r\n\r\n`);
    let text = "";
    for await (const chunk of socket) text += chunk.toString();
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain("the model gateway speaks plain http");
  });

  it("serves plain http through a CONNECT to its port 80, as Node's fetch sends it through a proxy", async () => {
    const { gateway } = await start(true);
    const before = api.requests.length;
    const socket = net.connect(proxy!.socketPath);
    const body = JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    socket.write(`CONNECT ${MODEL_GATEWAY_HOST}:80 HTTP/1.1\r\nHost: ${MODEL_GATEWAY_HOST}:80\r\n\r\n`);
    // As a client does: the request once the tunnel is up.
    await new Promise((resolve) => socket.once("data", resolve));
    socket.write(
      `POST /v1/messages HTTP/1.1\r\nHost: ${MODEL_GATEWAY_HOST}\r\nx-api-key: ${gateway.placeholder}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    let text = "";
    for await (const chunk of socket) text += chunk.toString();
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).not.toContain(OPERATOR_KEY);
    expect(api.requests.slice(before).map((r) => r.key)).toEqual([OPERATOR_KEY]);
    expect(gateway.usage().calls).toBe(1);
  });

  it("without a gateway for the attempt, its name is just a host outside the policy", async () => {
    const { gateway, denials } = await start(false);
    const before = api.requests.length;
    const answer = await call(gateway.placeholder, { model: "m", messages: [] });
    expect(answer.status).toBe(403);
    expect(denials).toEqual([{ host: MODEL_GATEWAY_HOST, port: 80, reason: "not in the egress policy" }]);
    expect(api.requests.length).toBe(before);
  });
});
