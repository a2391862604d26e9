// Integration: the model gateway behind the egress proxy, over real sockets — the proxy on a
// Unix socket as the sandbox reaches it, and a local fake of Anthropic's Messages API as the
// upstream. The placeholder goes in, the operator's key comes out, the answer streams back, and
// the usage of every call is summed per model.
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEgressProxy, type EgressDenial, type EgressProxy } from "../../runner/src/sandbox/egress-proxy.js";
import { createModelGateway, MODEL_GATEWAY_HOST, type ModelGateway } from "../../runner/src/sandbox/model-gateway.js";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.js";

const OPERATOR_KEY = "sk-ant-api03-operator-key-0000000000000000";
let dir: string;
let api: FakeAnthropic;
let proxy: EgressProxy | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "cf-gateway-"));
  api = await startFakeAnthropic([{ tool: "Bash", input: { command: "true" } }, { text: "Done." }]);
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function start(withGateway: boolean): Promise<{ gateway: ModelGateway; denials: EgressDenial[] }> {
  const gateway = createModelGateway({ upstream: { baseUrl: api.url, header: "x-api-key", key: OPERATOR_KEY } });
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

/** A Messages API call as a CLI in the sandbox makes it: absolute-form, through the proxy. */
function call(key: string | null, body: Record<string, unknown>): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      socketPath: proxy!.socketPath,
      method: "POST",
      path: `http://${MODEL_GATEWAY_HOST}/v1/messages`,
      headers: { "content-type": "application/json", ...(key ? { "x-api-key": key } : {}), "anthropic-version": "2023-06-01" },
    });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
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
    const whole = await call(gateway.placeholder, { model: "claude-side-2", messages: [{ role: "user", content: "title?" }] });
    expect(JSON.parse(whole.text)).toMatchObject({ type: "message", usage: { input_tokens: 100, output_tokens: 20 } });
    const seen = api.requests.slice(before);
    expect(seen.map((r) => r.key)).toEqual([OPERATOR_KEY, OPERATOR_KEY]);
    expect(gateway.usage()).toEqual({
      calls: 2,
      input_tokens: 200,
      output_tokens: 40,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
      by_model: {
        "claude-test-1": { calls: 1, input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
        "claude-side-2": { calls: 1, input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
      },
    });
  });

  it("refuses any other credential, and never calls the upstream for it", async () => {
    const { gateway } = await start(true);
    const before = api.requests.length;
    for (const key of [null, "sk-ant-someone-elses-key", OPERATOR_KEY]) {
      const answer = await call(key, { model: "m", messages: [] });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.text)).toEqual({ type: "error", error: { type: "authentication_error", message: "the model gateway accepts only the credential this attempt was given" } });
    }
    expect(api.requests.length).toBe(before);
    expect(gateway.usage().calls).toBe(0);
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

  it("without a gateway for the attempt, its name is just a host outside the policy", async () => {
    const { gateway, denials } = await start(false);
    const before = api.requests.length;
    const answer = await call(gateway.placeholder, { model: "m", messages: [] });
    expect(answer.status).toBe(403);
    expect(denials).toEqual([{ host: MODEL_GATEWAY_HOST, port: 80, reason: "not in the egress policy" }]);
    expect(api.requests.length).toBe(before);
  });
});
