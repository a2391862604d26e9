/**
 * A local stand-in for Google's Gemini API (`generativelanguage`), for running the real Gemini
 * CLI offline.
 *
 * It answers `POST /v1beta/models/<model>:streamGenerateContent?alt=sse` (server-sent events)
 * and `POST /v1beta/models/<model>:generateContent` (one JSON body) the way the API does,
 * following a script: the agent's turn n (counted by the `functionResponse` parts in the
 * conversation so far) gets `script[n]` — a function call, the closing text, or an API error.
 * Requests without tools (Gemini CLI's side calls: the next-speaker check, loop detection)
 * get a short JSON text answer. Every answer carries the same `usageMetadata` (`USAGE`), so a
 * test knows what the provider billed. Every request is recorded with the credential it
 * carried (`x-goog-api-key`, or a `key=` query); `failFirst` makes the first calls of a turn
 * fail with a retryable status before the script's answer.
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** One step of the agent's side of the conversation. */
export type GeminiStep =
  | { call: string; args: Record<string, unknown> }
  | { text: string }
  /** The API refuses the call with this status and message (not retried by the CLI when 400). */
  | { error: { status: number; message: string } };

export interface FakeGeminiRequest {
  /** `x-goog-api-key`, or the `key` query parameter. */
  key: string | null;
  model: string;
  method: "streamGenerateContent" | "generateContent" | string;
  withTools: boolean;
  /** The HTTP status it was answered with. */
  status: number;
  /** What the function responses sent back in this request said, in order (JSON of `response`). */
  functionResponses: string[];
}

export interface FakeGemini {
  url: string;
  requests: FakeGeminiRequest[];
  close(): Promise<void>;
}

/** What every answer (a function call, the text, a side answer) is billed. */
export const GEMINI_USAGE = { promptTokenCount: 100, candidatesTokenCount: 20, totalTokenCount: 120 } as const;

interface Part {
  text?: string;
  functionCall?: unknown;
  functionResponse?: { name?: string; response?: unknown };
}

export interface FakeGeminiOptions {
  /** The first `count` calls of the agent's turn `turn` get `status` (a 503 by default) before its step. */
  failFirst?: { turn: number; count: number; status?: number };
}

/**
 * @example
 * const api = await startFakeGemini([{ call: "run_shell_command", args: { command: "npm test" } }, { text: "Done." }]);
 * // GOOGLE_GEMINI_BASE_URL=api.url
 */
export async function startFakeGemini(script: readonly GeminiStep[], options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const requests: FakeGeminiRequest[] = [];
  let failed = 0;
  const server = http.createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (raw += chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake-gemini");
      const match = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(\w+)$/.exec(url.pathname);
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (req.method !== "POST" || !match || !["streamGenerateContent", "generateContent", "countTokens"].includes(match[2]!)) {
        return json(404, { error: { code: 404, message: `no ${req.method} ${url.pathname} here`, status: "NOT_FOUND" } });
      }
      const [, model, method] = match as unknown as [string, string, string];
      const body = JSON.parse(raw || "{}") as { contents?: { role?: string; parts?: Part[] }[]; tools?: { functionDeclarations?: unknown[] }[] };
      const contents = body.contents ?? [];
      const record: FakeGeminiRequest = {
        key: (req.headers["x-goog-api-key"] as string | undefined) ?? url.searchParams.get("key"),
        model,
        method,
        withTools: (body.tools ?? []).some((t) => (t.functionDeclarations?.length ?? 0) > 0),
        status: 200,
        functionResponses: (contents.at(-1)?.parts ?? []).filter((p) => p.functionResponse).map((p) => JSON.stringify(p.functionResponse?.response ?? null)),
      };
      requests.push(record);
      if (method === "countTokens") return json(200, { totalTokens: 100 });
      const turn = contents.flatMap((c) => c.parts ?? []).filter((p) => p.functionResponse).length;
      const failFirst = options.failFirst;
      if (record.withTools && failFirst && failFirst.turn === turn && failed < failFirst.count) {
        failed++;
        record.status = failFirst.status ?? 503;
        return json(record.status, { error: { code: record.status, message: "The model is overloaded. Please try again later.", status: "UNAVAILABLE" } });
      }
      const step: GeminiStep = record.withTools
        ? (script[turn] ?? { text: "Done." })
        : { text: JSON.stringify({ reasoning: "The model's turn is complete.", next_speaker: "user" }) };
      if ("error" in step) {
        record.status = step.error.status;
        return json(step.error.status, {
          error: { code: step.error.status, message: step.error.message, status: step.error.status === 400 ? "INVALID_ARGUMENT" : "UNKNOWN" },
        });
      }
      const part = "call" in step ? { functionCall: { name: step.call, args: step.args } } : { text: step.text };
      const answer = {
        candidates: [{ content: { role: "model", parts: [part] }, finishReason: "STOP", index: 0 }],
        usageMetadata: GEMINI_USAGE,
        modelVersion: model,
        responseId: `fake-${requests.length}`,
      };
      if (method === "generateContent") return json(200, answer);
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      // A text answer streams in two pieces; the usage comes with the last one, as the API sends it.
      if ("text" in step && step.text.length > 1) {
        const half = Math.ceil(step.text.length / 2);
        res.write(
          `data: ${JSON.stringify({ candidates: [{ content: { role: "model", parts: [{ text: step.text.slice(0, half) }] }, index: 0 }], modelVersion: model })}\r\n\r\n`,
        );
        res.write(
          `data: ${JSON.stringify({ ...answer, candidates: [{ ...answer.candidates[0], content: { role: "model", parts: [{ text: step.text.slice(half) }] } }] })}\r\n\r\n`,
        );
      } else {
        res.write(`data: ${JSON.stringify(answer)}\r\n\r\n`);
      }
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
