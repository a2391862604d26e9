// Integration: the model gateway's metering, behind the egress proxy over real sockets, with
// local fakes of OpenAI's and Google's model APIs as upstreams: the usage of every call, streamed
// or not, whole or cut short, is summed per model and priced.
import { describe, expect, it } from "vitest";
import { GEMINI_KEY, OPENAI_KEY, useModelGatewayTestbed } from "./harness/model-gateway.js";

const gw = useModelGatewayTestbed();

describe("model gateway: metering", () => {
  it("meters OpenAI's Responses API, streamed and not: cached tokens out of input, reasoning in output", async () => {
    const calls: unknown[] = [];
    const { gateway } = await gw.start(true, { upstream: gw.openai(), onCall: (model, tokens, totals) => calls.push({ model, tokens, calls: totals.calls }) });
    const before = gw.apis.requests.length;
    const streamed = await gw.request("/v1/responses", { authorization: `Bearer ${gateway.placeholder}` }, { model: "gpt-5-codex", stream: true, input: "hi" });
    expect(streamed.status).toBe(200);
    expect(streamed.text).toContain("event: response.completed");
    // Codex's base URL holds /v1 itself: the path is then /responses.
    const whole = await gw.request("/responses", { authorization: `Bearer ${gateway.placeholder}` }, { model: "gpt-5-mini-2025-08-07", input: "hi" });
    expect(JSON.parse(whole.text)).toMatchObject({ object: "response", usage: { input_tokens: 1_200 } });
    const seen = gw.reached(before, gateway);
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
    const { gateway } = await gw.start(true, { upstream: gw.openai() });
    const before = gw.apis.requests.length;
    const auth = { authorization: `Bearer ${gateway.placeholder}` };
    const asked = { model: "gpt-4.1-2025-04-14", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] };
    const plain = { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hi" }] };
    const whole = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] };
    expect((await gw.request("/v1/chat/completions", auth, plain)).text).toContain('"usage":{"prompt_tokens":500');
    expect((await gw.request("/v1/chat/completions", auth, asked)).text).toContain("data: [DONE]");
    expect(JSON.parse((await gw.request("/v1/chat/completions", auth, whole)).text)).toMatchObject({ usage: { prompt_tokens: 500 } });
    const seen = gw.reached(before, gateway);
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
    const { gateway } = await gw.start(true, { upstream: gw.openai() });
    const before = gw.apis.requests.length;
    const big = JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "x".repeat(9 * 1_048_576) }] });
    const answer = await gw.request("/v1/chat/completions", { authorization: `Bearer ${gateway.placeholder}` }, big);
    expect(answer.text).toContain("data: [DONE]");
    const [seen] = gw.reached(before, gateway);
    expect(seen!.body.length).toBe(big.length);
    expect(seen!.body === big).toBe(true);
    // Not asked for its usage, the stream reported none: the call counts, without tokens.
    expect(gateway.usage().by_model["gpt-4o-mini"]).toMatchObject({ calls: 1, input_tokens: 0, output_tokens: 0 });
  });

  it("meters Gemini with the key as x-goog-api-key or ?key=, streamed (the last cumulative count wins) and not (the model from the path)", async () => {
    const { gateway } = await gw.start(true, { upstream: gw.google() });
    const before = gw.apis.requests.length;
    const streamed = await gw.request(
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
      { "x-goog-api-key": gateway.placeholder },
      { contents: [] },
    );
    expect(streamed.text).toContain('"finishReason":"STOP"');
    const whole = await gw.request(`/v1beta/models/gemini-2.5-pro:generateContent?key=${gateway.placeholder}`, {}, { contents: [] });
    expect(JSON.parse(whole.text)).toMatchObject({ usageMetadata: { promptTokenCount: 2_400 } });
    const array = await gw.request(`/v1beta/models/gemini-2.0-flash:streamGenerateContent?key=${gateway.placeholder}&x=1`, {}, { contents: [] });
    expect(JSON.parse(array.text)).toHaveLength(3);
    const seen = gw.reached(before, gateway);
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
    const { gateway } = await gw.start(true, { upstream: gw.google() });
    await gw.request(
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
});
