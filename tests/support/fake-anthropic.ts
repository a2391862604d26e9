/**
 * A local stand-in for Anthropic's Messages API, for running the real Claude Code offline.
 *
 * It answers `POST /v1/messages` (streamed as server-sent events, or as one JSON body) the way
 * the API does, following a script: the agent's turn n (counted by the `tool_result` blocks in
 * the conversation so far) gets `script[n]` — a tool call or the closing text. Requests without
 * tools (Claude Code's side calls: titles, summaries) get a short text answer. Every request is
 * recorded with the credential it carried, and the usage it was charged, so a test can check
 * what reached the provider.
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** One step of the agent's side of the conversation. */
export type ScriptStep = { tool: string; input: Record<string, unknown> } | { text: string };

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
}

export interface FakeAnthropic {
  url: string;
  requests: FakeAnthropicRequest[];
  close(): Promise<void>;
}

const USAGE = { input_tokens: 100, output_tokens: 20 };

interface ContentBlock {
  type: string;
  text?: string;
  content?: string | { type: string; text?: string }[];
}

/**
 * @example
 * const api = await startFakeAnthropic([{ tool: "Bash", input: { command: "npm test" } }, { text: "Done." }]);
 * // ANTHROPIC_BASE_URL=api.url
 */
export async function startFakeAnthropic(script: readonly ScriptStep[]): Promise<FakeAnthropic> {
  const requests: FakeAnthropicRequest[] = [];
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
      const body = JSON.parse(raw) as { model: string; stream?: boolean; tools?: unknown[]; messages: { role: string; content: string | ContentBlock[] }[] };
      const blocks = body.messages.flatMap((m) => (typeof m.content === "string" ? [] : m.content));
      const results = blocks.filter((b) => b.type === "tool_result");
      const lastUser = body.messages.at(-1);
      const resultsNow = lastUser && typeof lastUser.content !== "string" ? lastUser.content.filter((b) => b.type === "tool_result") : [];
      const bearer = req.headers.authorization?.replace(/^Bearer /, "") ?? null;
      const withTools = (body.tools?.length ?? 0) > 0;
      requests.push({
        key: (req.headers["x-api-key"] as string | undefined) ?? bearer,
        model: body.model,
        stream: body.stream === true,
        withTools,
        texts: body.messages.flatMap((m) => (typeof m.content === "string" ? [m.content] : m.content.flatMap((b) => (b.type === "text" && b.text ? [b.text] : [])))),
        toolResults: resultsNow.map((b) => (typeof b.content === "string" ? b.content : (b.content ?? []).map((c) => c.text ?? "").join(""))),
      });
      const step: ScriptStep = withTools ? (script[results.length] ?? { text: "Done." }) : { text: "A side answer." };
      const toolUseId = `toolu_${results.length + 1}`;
      const content = "tool" in step ? [{ type: "tool_use", id: toolUseId, name: step.tool, input: step.input }] : [{ type: "text", text: step.text }];
      const stopReason = "tool" in step ? "tool_use" : "end_turn";
      const message = { id: `msg_${requests.length}`, type: "message", role: "assistant", model: body.model, stop_sequence: null };
      if (!body.stream) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ...message, content, stop_reason: stopReason, usage: USAGE }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const event = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
      event("message_start", { message: { ...message, content: [], stop_reason: null, usage: { input_tokens: USAGE.input_tokens, output_tokens: 1 } } });
      if ("tool" in step) {
        event("content_block_start", { index: 0, content_block: { type: "tool_use", id: toolUseId, name: step.tool, input: {} } });
        event("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: JSON.stringify(step.input) } });
      } else {
        event("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
        event("content_block_delta", { index: 0, delta: { type: "text_delta", text: step.text } });
      }
      event("content_block_stop", { index: 0 });
      event("message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: USAGE.output_tokens } });
      event("message_stop", {});
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
