/**
 * A local stand-in for OpenAI's (Responses, Chat Completions) and Google's (Gemini
 * generateContent) model APIs, answering the way they do — one JSON body, or server-sent events
 * with the usage where each provider puts it — with fixed usage figures, so a test or bench can
 * check what the model gateway metered and what reached the provider.
 *
 * Every request is recorded (method, URL, headers, body as received). A request with the header
 * `x-fake-cut: 1` gets a stream cut mid-way (the socket closed after the first events).
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeModelRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FakeModelApis {
  url: string;
  requests: FakeModelRequest[];
  close(): Promise<void>;
}

/** What the Responses API bills every call: 1,000 of 1,200 input tokens cached, 300 output (100 of them reasoning). */
export const RESPONSES_USAGE = {
  input_tokens: 1_200,
  input_tokens_details: { cached_tokens: 1_000 },
  output_tokens: 300,
  output_tokens_details: { reasoning_tokens: 100 },
  total_tokens: 1_500,
};
/** What Chat Completions bills every call. */
export const CHAT_USAGE = { prompt_tokens: 500, prompt_tokens_details: { cached_tokens: 200 }, completion_tokens: 50, total_tokens: 550 };
/** Gemini's cumulative usage after its last chunk: 400 of 2,400 prompt tokens cached, 80 candidates, 20 thoughts. */
export const GEMINI_USAGE = { promptTokenCount: 2_400, cachedContentTokenCount: 400, candidatesTokenCount: 80, thoughtsTokenCount: 20, totalTokenCount: 2_500 };
/** Gemini's usage in its first streamed chunk (cumulative counts grow after it). */
export const GEMINI_FIRST_USAGE = { promptTokenCount: 2_400, cachedContentTokenCount: 400, candidatesTokenCount: 5, totalTokenCount: 2_405 };

const sse = (res: http.ServerResponse, events: string[], cut: boolean) => {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  if (cut) {
    res.write(events.slice(0, 2).join(""));
    setTimeout(() => res.socket?.destroy(), 20);
    return;
  }
  res.end(events.join(""));
};

/**
 * @example
 * const apis = await startFakeModelApis();
 * // OPENAI_BASE_URL=`${apis.url}/v1`, GOOGLE_GEMINI_BASE_URL=apis.url
 */
export async function startFakeModelApis(): Promise<FakeModelApis> {
  const requests: FakeModelRequest[] = [];
  const server = http.createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (raw += chunk));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: raw });
      const url = new URL(req.url ?? "/", "http://fake.invalid");
      const cut = req.headers["x-fake-cut"] === "1";
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "bad json" } }));
        return;
      }
      const model = typeof body.model === "string" ? body.model : "unknown";
      if (url.pathname.endsWith("/responses")) {
        const response = {
          id: "resp_1",
          object: "response",
          model,
          status: "completed",
          output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: "Hello." }] }],
        };
        if (body.stream !== true) {
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...response, usage: RESPONSES_USAGE }));
          return;
        }
        const event = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
        sse(
          res,
          [
            event("response.created", { response: { ...response, status: "in_progress", output: [], usage: null } }),
            event("response.output_text.delta", { item_id: "msg_1", output_index: 0, content_index: 0, delta: "Hello." }),
            event("response.completed", { response: { ...response, usage: RESPONSES_USAGE } }),
          ],
          cut,
        );
        return;
      }
      if (url.pathname.endsWith("/chat/completions")) {
        const base = { id: "chatcmpl-1", created: 1, model };
        if (body.stream !== true) {
          res.writeHead(200, { "content-type": "application/json" }).end(
            JSON.stringify({
              ...base,
              object: "chat.completion",
              choices: [{ index: 0, message: { role: "assistant", content: "Hello." }, finish_reason: "stop" }],
              usage: CHAT_USAGE,
            }),
          );
          return;
        }
        const chunk = (data: Record<string, unknown>) => `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", ...data })}\n\n`;
        const withUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
        sse(
          res,
          [
            chunk({ choices: [{ index: 0, delta: { role: "assistant", content: "Hel" }, finish_reason: null }], ...(withUsage ? { usage: null } : {}) }),
            chunk({ choices: [{ index: 0, delta: { content: "lo." }, finish_reason: "stop" }], ...(withUsage ? { usage: null } : {}) }),
            ...(withUsage ? [chunk({ choices: [], usage: CHAT_USAGE })] : []),
            "data: [DONE]\n\n",
          ],
          cut,
        );
        return;
      }
      const gemini = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(url.pathname);
      if (gemini) {
        const candidate = (text: string) => ({ content: { role: "model", parts: [{ text }] }, index: 0 });
        if (gemini[2] === "generateContent") {
          // No modelVersion here: the gateway then takes the model from the path.
          res
            .writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify({ candidates: [{ ...candidate("Hello."), finishReason: "STOP" }], usageMetadata: GEMINI_USAGE }));
          return;
        }
        const modelVersion = `${gemini[1]}-001`;
        const chunks = [
          { candidates: [candidate("Hel")], usageMetadata: GEMINI_FIRST_USAGE, modelVersion },
          { candidates: [candidate("lo")], usageMetadata: { ...GEMINI_FIRST_USAGE, candidatesTokenCount: 40, totalTokenCount: 2_440 }, modelVersion },
          { candidates: [{ ...candidate("."), finishReason: "STOP" }], usageMetadata: GEMINI_USAGE, modelVersion },
        ];
        if (url.searchParams.get("alt") === "sse") {
          sse(
            res,
            chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`),
            cut,
          );
        } else {
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(chunks));
        }
        return;
      }
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no ${req.method} ${url.pathname} here` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
