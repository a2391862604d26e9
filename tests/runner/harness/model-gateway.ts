/**
 * What the model gateway's tests share: local fakes of Anthropic's, OpenAI's and Google's model
 * APIs as upstreams, the operators' keys for them, and `start()` for a gateway behind a real
 * egress proxy on a Unix socket, as the sandbox reaches it. `request()` and `call()` make a model
 * API call as a CLI in the sandbox does, and fail the test if an answer holds an operator's key;
 * `reached()` is what got to the OpenAI/Gemini fake, checked to hold no placeholder.
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { type EgressDenial, type EgressProxy, startEgressProxy } from "../../../runner/src/sandbox/egress-proxy.js";
import {
  createModelGateway,
  MODEL_GATEWAY_HOST,
  type ModelGateway,
  type ModelGatewayOptions,
  type ModelUpstream,
} from "../../../runner/src/sandbox/model-gateway.js";
import { type FakeAnthropic, startFakeAnthropic } from "../../support/fake-anthropic.js";
import { type FakeModelApis, startFakeModelApis } from "../../support/fake-model-apis.js";

export const OPERATOR_KEY = "sk-ant-api03-operator-key-0000000000000000";
export const OPENAI_KEY = "sk-proj-operator-openai-key-1111111111";
export const GEMINI_KEY = "AIzaSy-operator-gemini-key-22222222222";
/** Every operator key above: none may ever be in an answer. */
const KEYS = [OPERATOR_KEY, OPENAI_KEY, GEMINI_KEY];

export interface Answer {
  status: number;
  text: string;
  headers: http.IncomingHttpHeaders;
}

/** The tools Claude Code declares in a call. */
export const TOOLS = [{ name: "Bash", input_schema: { type: "object" } }];

/** Registers the file's hooks: the fake upstreams before all tests, each test's proxy closed after it. */
export function useModelGatewayTestbed() {
  let dir: string;
  const bed = {
    /** The fake Anthropic Messages API, the default upstream. */
    api: undefined as unknown as FakeAnthropic,
    /** The fake OpenAI and Gemini APIs. */
    apis: undefined as unknown as FakeModelApis,
    /** The current test's egress proxy, once started. */
    proxy: undefined as EgressProxy | undefined,

    /** A gateway (Anthropic upstream unless `options` say otherwise), behind a new proxy when `withGateway`. */
    async start(withGateway: boolean, options: Partial<ModelGatewayOptions> = {}): Promise<{ gateway: ModelGateway; denials: EgressDenial[] }> {
      const gateway = createModelGateway({ upstream: { baseUrl: bed.api.url, header: "x-api-key", key: OPERATOR_KEY }, ...options });
      const denials: EgressDenial[] = [];
      bed.proxy = await startEgressProxy({
        socketPath: path.join(mkdtempSync(path.join(dir, "p")), "egress.sock"),
        pool: [],
        task: null,
        onDenied: (denial) => denials.push(denial),
        ...(withGateway ? { gateway } : {}),
      });
      return { gateway, denials };
    },

    openai: (): ModelUpstream => ({ baseUrl: bed.apis.url, header: "authorization", key: OPENAI_KEY }),
    google: (): ModelUpstream => ({ baseUrl: bed.apis.url, header: "x-goog-api-key", key: GEMINI_KEY }),

    /** A model API call as a CLI in the sandbox makes it: absolute-form, through the proxy. No answer ever holds an operator's key. */
    request(pathAndQuery: string, headers: Record<string, string>, body: unknown): Promise<Answer> {
      return new Promise((resolve, reject) => {
        const req = http.request({
          socketPath: bed.proxy!.socketPath,
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
    },

    /** A Messages API call as Claude Code makes it. */
    call(key: string | null, body: Record<string, unknown>): Promise<Answer> {
      return bed.request("/v1/messages", { ...(key ? { "x-api-key": key } : {}), "anthropic-version": "2023-06-01" }, body);
    },

    /** What reached the fake OpenAI/Gemini upstream since `before`, with no placeholder anywhere in it. */
    reached(before: number, gateway: ModelGateway) {
      const seen = bed.apis.requests.slice(before);
      for (const r of seen) expect(JSON.stringify(r)).not.toContain(gateway.placeholder);
      return seen;
    },
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "cf-gateway-"));
    bed.api = await startFakeAnthropic([{ tool: "Bash", input: { command: "true" } }, { text: "Done." }]);
    bed.apis = await startFakeModelApis();
  });
  afterAll(async () => {
    await bed.api.close();
    await bed.apis.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await bed.proxy?.close();
    bed.proxy = undefined;
  });

  return bed;
}
