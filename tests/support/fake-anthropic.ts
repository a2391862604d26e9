/**
 * A local stand-in for Anthropic's Messages API, for running the real Claude Code offline.
 *
 * It answers `POST /v1/messages` (streamed as server-sent events, or as one JSON body) the way
 * the API does, following a script: the agent's turn n (counted by the `tool_result` blocks in
 * the conversation so far) gets `script[n]` — a tool call or the closing text. Requests without
 * tools (Claude Code's side calls: titles, summaries) get a short text answer. Every request is
 * recorded with the credential it carried, and the usage it was charged, so a test can check
 * what reached the provider.
 *
 * Options make the harder paths happen: a subagent (a request whose first user message names
 * one of `subagents` follows that script instead), thinking before a step's text, a step
 * answered late (`delay_ms`, so a background subagent can outlive its parent's turn), a reply to
 * a message the CLI sends on its own (`replies`: a background subagent's notice), and HTTP
 * errors answered to the first agent requests (`failures`, so the CLI retries or gives up).
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** One step of the agent's side of the conversation; `delay_ms` holds its answer back that long. */
export type ScriptStep = ({ tool: string; input: Record<string, unknown> } | { text: string; thinking?: string }) & { delay_ms?: number };

/** An HTTP error the fake answers instead of a message. */
export interface ScriptFailure {
  status: number;
  /** The error's `type` (default from the status: `authentication_error`, `api_error`, …). */
  type?: string;
  message?: string;
}

export interface FakeAnthropicOptions {
  /** Scripts of subagents: a request whose first user message contains the key follows its script. */
  subagents?: Record<string, readonly ScriptStep[]>;
  /** A step for a request whose last user message contains the key (a background subagent's notice, …), before the script. */
  replies?: Record<string, ScriptStep>;
  /** Answered, in order, to the first requests with tools (the agents' turns, not side calls). */
  failures?: readonly ScriptFailure[];
}

export interface FakeAnthropicRequest {
  /** `x-api-key`, or the bearer token. */
  key: string | null;
  model: string;
  stream: boolean;
  withTools: boolean;
  /** What the tool results sent back in this request said, in order. */
  toolResults: string[];
  /** The text of every message in the conversation sent, in order (the user's and the model's). */
  texts: string[];
  /** The system prompt sent, as one text. */
  system: string;
  /** The subagent script this request followed (its key), if any. */
  subagent?: string;
  /** The HTTP status of an error answered instead of a message. */
  failedWith?: number;
}

export interface FakeAnthropic {
  url: string;
  requests: FakeAnthropicRequest[];
  close(): Promise<void>;
}

const USAGE = { input_tokens: 100, output_tokens: 20 };

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  429: "rate_limit_error",
  529: "overloaded_error",
};

interface ContentBlock {
  type: string;
  text?: string;
  content?: string | { type: string; text?: string }[];
}

/** The text of a message's content, string or blocks. */
function textOf(content: string | ContentBlock[] | undefined): string {
  if (content === undefined) return "";
  return typeof content === "string" ? content : content.map((b) => b.text ?? "").join("\n");
}

/**
 * @example
 * const api = await startFakeAnthropic([{ tool: "Bash", input: { command: "npm test" } }, { text: "Done." }]);
 * // ANTHROPIC_BASE_URL=api.url
 */
export async function startFakeAnthropic(script: readonly ScriptStep[], options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const requests: FakeAnthropicRequest[] = [];
  const failures = [...(options.failures ?? [])];
  const server = http.createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (raw += chunk));
    req.on("end", () => {
      if (req.method !== "POST" || !req.url?.startsWith("/v1/messages") || req.url.startsWith("/v1/messages/count_tokens")) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: `no ${req.method} ${req.url} here` } }));
        return;
      }
      const body = JSON.parse(raw) as {
        model: string;
        stream?: boolean;
        tools?: unknown[];
        system?: string | ContentBlock[];
        messages: { role: string; content: string | ContentBlock[] }[];
      };
      const blocks = body.messages.flatMap((m) => (typeof m.content === "string" ? [] : m.content));
      const results = blocks.filter((b) => b.type === "tool_result");
      const lastUser = body.messages.at(-1);
      const resultsNow = lastUser && typeof lastUser.content !== "string" ? lastUser.content.filter((b) => b.type === "tool_result") : [];
      const bearer = req.headers.authorization?.replace(/^Bearer /, "") ?? null;
      const withTools = (body.tools?.length ?? 0) > 0;
      const firstUser = textOf(body.messages.find((m) => m.role === "user")?.content);
      const subagent = withTools ? Object.keys(options.subagents ?? {}).find((key) => firstUser.includes(key)) : undefined;
      const failure = withTools ? failures.shift() : undefined;
      requests.push({
        key: (req.headers["x-api-key"] as string | undefined) ?? bearer,
        model: body.model,
        stream: body.stream === true,
        withTools,
        system: textOf(body.system),
        texts: body.messages.flatMap((m) =>
          typeof m.content === "string" ? [m.content] : m.content.flatMap((b) => (b.type === "text" && b.text ? [b.text] : [])),
        ),
        toolResults: resultsNow.map((b) => (typeof b.content === "string" ? b.content : (b.content ?? []).map((c) => c.text ?? "").join(""))),
        ...(subagent !== undefined ? { subagent } : {}),
        ...(failure ? { failedWith: failure.status } : {}),
      });
      if (failure) {
        const type = failure.type ?? ERROR_TYPES[failure.status] ?? "api_error";
        res.writeHead(failure.status, { "content-type": "application/json", "request-id": `req_${requests.length}` });
        res.end(JSON.stringify({ type: "error", error: { type, message: failure.message ?? `fake ${type}` } }));
        return;
      }
      const steps = subagent !== undefined ? options.subagents![subagent]! : script;
      const lastText = textOf(lastUser?.content);
      const reply = Object.entries(options.replies ?? {}).find(([key]) => lastText.includes(key))?.[1];
      const step: ScriptStep = withTools ? (reply ?? steps[results.length] ?? { text: "Done." }) : { text: "A side answer." };
      const requestNumber = requests.length;
      // A subagent's tool ids differ from its parent's, as the real API's are unique.
      const toolUseId = subagent !== undefined ? `toolu_${subagent.replace(/\W/g, "")}_${results.length + 1}` : `toolu_${results.length + 1}`;
      setTimeout(() => answer(res, body, step, toolUseId, requestNumber), step.delay_ms ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Answers one request with `step`, streamed as server-sent events or as one JSON body. */
function answer(res: http.ServerResponse, body: { model: string; stream?: boolean }, step: ScriptStep, toolUseId: string, requestNumber: number) {
  type Block =
    | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
    | { type: "thinking"; thinking: string; signature: string }
    | { type: "text"; text: string };
  const content: Block[] =
    "tool" in step
      ? [{ type: "tool_use", id: toolUseId, name: step.tool, input: step.input }]
      : [
          ...(step.thinking !== undefined ? [{ type: "thinking" as const, thinking: step.thinking, signature: "fake-signature" }] : []),
          { type: "text", text: step.text },
        ];
  const stopReason = "tool" in step ? "tool_use" : "end_turn";
  const message = { id: `msg_${requestNumber}`, type: "message", role: "assistant", model: body.model, stop_sequence: null };
  if (!body.stream) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ...message, content, stop_reason: stopReason, usage: USAGE }));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const event = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  event("message_start", { message: { ...message, content: [], stop_reason: null, usage: { input_tokens: USAGE.input_tokens, output_tokens: 1 } } });
  content.forEach((block, index) => {
    if (block.type === "tool_use") {
      event("content_block_start", { index, content_block: { ...block, input: {} } });
      event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) } });
    } else if (block.type === "thinking") {
      event("content_block_start", { index, content_block: { type: "thinking", thinking: "" } });
      event("content_block_delta", { index, delta: { type: "thinking_delta", thinking: block.thinking } });
      event("content_block_delta", { index, delta: { type: "signature_delta", signature: block.signature } });
    } else {
      event("content_block_start", { index, content_block: { type: "text", text: "" } });
      event("content_block_delta", { index, delta: { type: "text_delta", text: block.text } });
    }
    event("content_block_stop", { index });
  });
  event("message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: USAGE.output_tokens } });
  event("message_stop", {});
  res.end();
}
