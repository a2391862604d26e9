// Integration: the model gateway's credentials, behind the egress proxy over real sockets — the
// proxy on a Unix socket as the sandbox reaches it, local fakes of Anthropic's, OpenAI's and
// Google's model APIs as upstreams. The placeholder goes in (in whichever place each provider's
// clients put keys), the operator's key comes out and goes only to the upstream; anything else
// is refused. Also how the gateway is reached: plain http, or a CONNECT to its port 80.
import http from "node:http";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { MODEL_GATEWAY_HOST } from "../../runner/src/sandbox/model-gateway.js";
import { GEMINI_KEY, OPERATOR_KEY, TOOLS, useModelGatewayTestbed } from "./harness/model-gateway.js";

const gw = useModelGatewayTestbed();

describe("model gateway: placeholder and keys", () => {
  it("swaps the placeholder for the operator's key, streams the answer back and sums the usage per model", async () => {
    const { gateway } = await gw.start(true);
    const before = gw.api.requests.length;
    const streamed = await gw.call(gateway.placeholder, { model: "claude-test-1", stream: true, tools: TOOLS, messages: [{ role: "user", content: "hi" }] });
    expect(streamed.status).toBe(200);
    expect(streamed.headers["content-type"]).toContain("text/event-stream");
    expect(streamed.text).toContain("event: message_stop");
    const whole = await gw.call(gateway.placeholder, { model: "claude-sonnet-4-5-20250929", messages: [{ role: "user", content: "title?" }] });
    expect(JSON.parse(whole.text)).toMatchObject({ type: "message", usage: { input_tokens: 100, output_tokens: 20 } });
    const seen = gw.api.requests.slice(before);
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
    const { gateway } = await gw.start(true);
    const before = gw.api.requests.length;
    for (const key of [null, "sk-ant-someone-elses-key", OPERATOR_KEY]) {
      const answer = await gw.call(key, { model: "m", messages: [] });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.text)).toEqual({
        type: "error",
        error: { type: "authentication_error", message: "the model gateway accepts only the credential this attempt was given" },
      });
    }
    // The placeholder in one place and anything else in another is not the placeholder.
    const mixed = await gw.request("/v1/messages", { "x-api-key": gateway.placeholder, authorization: "Bearer sk-other" }, { model: "m", messages: [] });
    expect(mixed.status).toBe(401);
    expect(gw.api.requests.length).toBe(before);
    expect(gateway.usage().calls).toBe(0);
  });

  it("refuses a wrong credential in the shape of the provider the CLI calls", async () => {
    const { gateway } = await gw.start(true, { upstream: gw.openai() });
    const before = gw.apis.requests.length;
    const responses = await gw.request("/v1/responses", { authorization: "Bearer sk-wrong" }, { model: "gpt-5", input: "hi" });
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
    const gemini = await gw.request(`/v1beta/models/gemini-2.5-pro:generateContent?key=${GEMINI_KEY}`, {}, { contents: [] });
    expect(gemini.status).toBe(401);
    expect(JSON.parse(gemini.text)).toEqual({
      error: { code: 401, message: "the model gateway accepts only the credential this attempt was given", status: "UNAUTHENTICATED" },
    });
    expect(gw.apis.requests.length).toBe(before);
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
      const { gateway } = await gw.start(true, { upstream: gw.openai() });
      const before = gw.apis.requests.length;
      const { port } = thief.address() as net.AddressInfo;
      const answer = await gw.request(`//127.0.0.1:${port}/v1/responses`, { authorization: `Bearer ${gateway.placeholder}` }, { model: "gpt-5", input: "hi" });
      expect(elsewhere).toEqual([]);
      expect(gw.reached(before, gateway).map((r) => r.url)).toEqual([`//127.0.0.1:${port}/v1/responses`]);
      expect(answer.status).toBe(200);
    } finally {
      await new Promise((resolve) => thief.close(resolve));
    }
  });

  it("is plain http only: a CONNECT to it is refused", async () => {
    await gw.start(true);
    const socket = net.connect(gw.proxy!.socketPath);
    socket.end(`CONNECT ${MODEL_GATEWAY_HOST}:443 HTTP/1.1\r\nHost: ${MODEL_GATEWAY_HOST}:443\r\n\r\n`);
    let text = "";
    for await (const chunk of socket) text += chunk.toString();
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain("the model gateway speaks plain http");
  });

  it("serves plain http through a CONNECT to its port 80, as Node's fetch sends it through a proxy", async () => {
    const { gateway } = await gw.start(true);
    const before = gw.api.requests.length;
    const socket = net.connect(gw.proxy!.socketPath);
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
    expect(gw.api.requests.slice(before).map((r) => r.key)).toEqual([OPERATOR_KEY]);
    expect(gateway.usage().calls).toBe(1);
  });

  it("without a gateway for the attempt, its name is just a host outside the policy", async () => {
    const { gateway, denials } = await gw.start(false);
    const before = gw.api.requests.length;
    const answer = await gw.call(gateway.placeholder, { model: "m", messages: [] });
    expect(answer.status).toBe(403);
    expect(denials).toEqual([{ host: MODEL_GATEWAY_HOST, port: 80, reason: "not in the egress policy" }]);
    expect(gw.api.requests.length).toBe(before);
  });
});
