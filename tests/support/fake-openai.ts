/**
 * A local stand-in for OpenAI's Responses API, for running the real Codex CLI offline.
 *
 * It answers `POST /v1/responses` — streamed as server-sent events the way Codex reads them
 * (`response.created`, `response.output_item.added` / `.done`, text and argument deltas,
 * `response.completed` with the usage), or as one JSON body — following a script: the agent's
 * turn n (counted by the tool outputs in the conversation it sends; Codex sends the whole
 * conversation every time) gets `script[n]`: a function call (`exec_command` with `{cmd}`), a
 * freeform tool call (`apply_patch` with the patch text), the closing message (optionally after
 * a reasoning summary), or an API error. Faults can be injected once per turn: a 500, or a
 * stream dropped before it completes, which Codex retries.
 *
 * Every request is recorded with the credential it carried and the usage it was charged (a
 * fixed amount per completed answer, none for an error or a dropped stream), so a test can
 * compare what reached the provider with what the runner metered.
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** One step of the model's side of the conversation. */
export type OpenAIStep =
  /** A function tool call: `{ call: "exec_command", arguments: { cmd: "ls" } }`. */
  | { call: string; arguments: Record<string, unknown> }
  /** A freeform (custom) tool call: `{ custom: "apply_patch", input: "*** Begin Patch\n…" }`. */
  | { custom: string; input: string }
  /** The model's message, after a reasoning summary when given. */
  | { text: string; reasoning?: string }
  /** An API error answered for every request at this turn: an HTTP status and OpenAI's error body. */
  | { error: { status: number; message: string; type?: string; code?: string } };

/** A failure served once, for the first request at `turn`; the next request gets the script's step. */
export interface OpenAIFault {
  turn: number;
  /** `http_500`: a 500 with an error body. `drop_stream`: the stream starts, then the connection is cut. */
  kind: "http_500" | "drop_stream";
}

export interface FakeOpenAIRequest {
  /** The bearer token it carried. */
  key: string | null;
  model: string;
  stream: boolean;
  withTools: boolean;
  /** Names of the tools it offered, namespaced tools as `namespace.name`. */
  tools: string[];
  /** The turn it was answered as (tool outputs in its input). */
  turn: number;
  /** Every tool output in the conversation it sent, in order. */
  toolOutputs: string[];
  /** The text of every message in the conversation it sent (instructions, the user's, the model's), in order. */
  texts: string[];
  /** What it was answered with. */
  answer: "step" | "error" | "http_500" | "drop_stream";
  /** The usage it was charged (zero for an error or a dropped stream); `input_tokens` includes `cached_tokens`, as OpenAI counts. */
  usage: OpenAIUsage;
}

export interface FakeOpenAI {
  /** Base URL as Codex wants it (`…/v1`). */
  url: string;
  requests: FakeOpenAIRequest[];
  /** What was charged over all requests so far. */
  totals(): OpenAIUsage & { calls: number };
  close(): Promise<void>;
}

export interface OpenAIUsage {
  input_tokens: number;
  cached_tokens: number;
  output_tokens: number;
}

/** Charged for every completed answer: 120 prompt tokens of which 40 read from the cache, 30 output. */
export const OPENAI_USAGE: OpenAIUsage = { input_tokens: 120, cached_tokens: 40, output_tokens: 30 };

interface InputItem {
  type?: string;
  output?: string | { type?: string; text?: string }[];
  content?: string | { type?: string; text?: string }[];
}

/**
 * @example
 * const api = await startFakeOpenAI([{ call: "exec_command", arguments: { cmd: "npm test" } }, { text: "Done." }]);
 * // a Codex provider with base_url = api.url
 */
export async function startFakeOpenAI(script: readonly OpenAIStep[], options: { faults?: OpenAIFault[] } = {}): Promise<FakeOpenAI> {
  const requests: FakeOpenAIRequest[] = [];
  const faults = [...(options.faults ?? [])];
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (raw += chunk));
    req.on("end", () => {
      if (req.method !== "POST" || !/^\/v1\/responses(\?|$)/.test(req.url ?? "")) {
        return sendJson(res, 404, { error: { message: `no ${req.method} ${req.url} here`, type: "invalid_request_error", param: null, code: "not_found" } });
      }
      let body: { model?: string; stream?: boolean; tools?: { type?: string; name?: string; tools?: { name?: string }[] }[]; input?: InputItem[] };
      try {
        body = JSON.parse(raw) as typeof body;
      } catch {
        return sendJson(res, 400, { error: { message: "the body is not JSON", type: "invalid_request_error", param: null, code: null } });
      }
      const input = Array.isArray(body.input) ? body.input : [];
      const outputs = input.filter((item) => typeof item.type === "string" && item.type.endsWith("_call_output"));
      // Codex may offer tools at the top level or in an `additional_tools` input item.
      const toolList = [
        ...(body.tools ?? []),
        ...input.flatMap((item) => (item.type === "additional_tools" ? ((item as { tools?: typeof body.tools }).tools ?? []) : [])),
      ];
      const tools = toolList.flatMap((t) => (t.tools ? t.tools.map((inner) => `${t.name}.${inner.name}`) : [t.name ?? t.type ?? "?"]));
      const turn = outputs.length;
      const model = body.model ?? "unknown";
      const record: FakeOpenAIRequest = {
        key: req.headers.authorization?.replace(/^Bearer\s+/i, "") ?? null,
        model,
        stream: body.stream === true,
        withTools: tools.length > 0,
        tools,
        turn,
        toolOutputs: outputs.map(outputText),
        texts: input
          .filter((item) => item.type === "message")
          .flatMap((item) => (typeof item.content === "string" ? [item.content] : (item.content ?? []).flatMap((part) => (part.text ? [part.text] : [])))),
        answer: "step",
        usage: { input_tokens: 0, cached_tokens: 0, output_tokens: 0 },
      };
      requests.push(record);
      const id = `resp_${requests.length}`;

      const faultAt = faults.findIndex((f) => f.turn === turn);
      const fault = faultAt >= 0 ? faults.splice(faultAt, 1)[0] : undefined;
      if (fault?.kind === "http_500") {
        record.answer = "http_500";
        return sendJson(res, 500, {
          error: { message: "The server had an error while processing your request.", type: "server_error", param: null, code: null },
        });
      }
      const step: OpenAIStep = script[turn] ?? { text: "Done." };
      if ("error" in step) {
        record.answer = "error";
        const { status, message, type, code } = step.error;
        return sendJson(res, status, { error: { message, type: type ?? "invalid_request_error", param: null, code: code ?? null } });
      }
      const output = outputItems(step, requests.length);
      if (fault?.kind === "drop_stream") {
        record.answer = "drop_stream";
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        res.write(sse("response.created", { response: { id, object: "response", status: "in_progress", model, output: [] } }));
        // Cut mid-answer: no `response.completed`, so nothing was billed.
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      record.usage = { ...OPENAI_USAGE };
      const usage = {
        input_tokens: OPENAI_USAGE.input_tokens,
        input_tokens_details: { cached_tokens: OPENAI_USAGE.cached_tokens },
        output_tokens: OPENAI_USAGE.output_tokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: OPENAI_USAGE.input_tokens + OPENAI_USAGE.output_tokens,
      };
      const response = { id, object: "response", created_at: Math.floor(Date.now() / 1000), status: "completed", model, output, usage };
      if (!record.stream) return sendJson(res, 200, response);
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write(sse("response.created", { response: { ...response, status: "in_progress", output: [], usage: null } }));
      output.forEach((item, index) => {
        for (const event of itemEvents(item, index)) res.write(event);
      });
      res.write(sse("response.completed", { response }));
      res.end();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    totals: () => ({
      calls: requests.filter((r) => r.usage.input_tokens > 0 || r.usage.output_tokens > 0).length,
      input_tokens: requests.reduce((sum, r) => sum + r.usage.input_tokens, 0),
      cached_tokens: requests.reduce((sum, r) => sum + r.usage.cached_tokens, 0),
      output_tokens: requests.reduce((sum, r) => sum + r.usage.output_tokens, 0),
    }),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

type OutputItem = Record<string, unknown> & { type: string; id: string };

function outputItems(step: Exclude<OpenAIStep, { error: unknown }>, n: number): OutputItem[] {
  if ("call" in step) {
    return [{ type: "function_call", id: `fc_${n}`, call_id: `call_${n}`, name: step.call, arguments: JSON.stringify(step.arguments), status: "completed" }];
  }
  if ("custom" in step) return [{ type: "custom_tool_call", id: `ctc_${n}`, call_id: `call_${n}`, name: step.custom, input: step.input, status: "completed" }];
  const items: OutputItem[] = [];
  if (step.reasoning !== undefined)
    items.push({ type: "reasoning", id: `rs_${n}`, summary: [{ type: "summary_text", text: step.reasoning }], encrypted_content: null });
  items.push({ type: "message", id: `msg_${n}`, role: "assistant", status: "completed", content: [{ type: "output_text", text: step.text, annotations: [] }] });
  return items;
}

/** The stream events of one output item: added, its deltas in two pieces, done. */
function itemEvents(item: OutputItem, index: number): string[] {
  const base = { output_index: index, item_id: item.id };
  const halves = (text: string) => [text.slice(0, Math.ceil(text.length / 2)), text.slice(Math.ceil(text.length / 2))].filter((part) => part.length > 0);
  const events: string[] = [];
  switch (item.type) {
    case "message": {
      const text = (item.content as { text: string }[])[0]!.text;
      events.push(sse("response.output_item.added", { output_index: index, item: { ...item, status: "in_progress", content: [] } }));
      events.push(sse("response.content_part.added", { ...base, content_index: 0, part: { type: "output_text", text: "", annotations: [] } }));
      for (const delta of halves(text)) events.push(sse("response.output_text.delta", { ...base, content_index: 0, delta }));
      events.push(sse("response.output_text.done", { ...base, content_index: 0, text }));
      events.push(sse("response.content_part.done", { ...base, content_index: 0, part: { type: "output_text", text, annotations: [] } }));
      break;
    }
    case "reasoning": {
      const text = (item.summary as { text: string }[])[0]!.text;
      events.push(sse("response.output_item.added", { output_index: index, item: { ...item, summary: [] } }));
      events.push(sse("response.reasoning_summary_part.added", { ...base, summary_index: 0, part: { type: "summary_text", text: "" } }));
      for (const delta of halves(text)) events.push(sse("response.reasoning_summary_text.delta", { ...base, summary_index: 0, delta }));
      events.push(sse("response.reasoning_summary_text.done", { ...base, summary_index: 0, text }));
      events.push(sse("response.reasoning_summary_part.done", { ...base, summary_index: 0, part: { type: "summary_text", text } }));
      break;
    }
    case "function_call": {
      events.push(sse("response.output_item.added", { output_index: index, item: { ...item, arguments: "", status: "in_progress" } }));
      for (const delta of halves(String(item.arguments))) events.push(sse("response.function_call_arguments.delta", { ...base, delta }));
      events.push(sse("response.function_call_arguments.done", { ...base, arguments: item.arguments }));
      break;
    }
    case "custom_tool_call": {
      events.push(sse("response.output_item.added", { output_index: index, item: { ...item, input: "", status: "in_progress" } }));
      for (const delta of halves(String(item.input))) events.push(sse("response.custom_tool_call_input.delta", { ...base, delta }));
      events.push(sse("response.custom_tool_call_input.done", { ...base, input: item.input }));
      break;
    }
  }
  events.push(sse("response.output_item.done", { output_index: index, item }));
  return events;
}

function sse(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

function outputText(item: InputItem): string {
  if (typeof item.output === "string") return item.output;
  if (Array.isArray(item.output)) return item.output.map((part) => part.text ?? "").join("");
  return "";
}
