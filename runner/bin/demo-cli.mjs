#!/usr/bin/env node
/**
 * The offline `demo` coding CLI: deterministic, no network, no model.
 *
 * It stands in for Claude Code in tests, demos and benchmarks. Called the way Claude Code is
 * called for a non-interactive run —
 *
 *   demo-cli.mjs -p [<prompt>] --output-format stream-json --verbose [--model <model>] [--resume <id>]
 *
 * (the prompt as an argument, or, as CodeForge passes it, on stdin)
 * — it appends `- <first line of the prompt>` under a `## Requests` heading to
 * `CODEFORGE_NOTES.md` in its working directory (creating the file), and prints Claude Code's
 * `stream-json` lines in Claude Code's own shapes: a `system`/`init` line, `assistant` text,
 * an `assistant` `tool_use` block (`Write` or `Edit`), the `user` `tool_result`, and a closing
 * `result` line.
 *
 * Like Claude Code it keeps its conversation in `~/.claude/projects/<cwd>/<session-id>.jsonl`
 * (one line per request), and `--resume <id>` continues it — from any cwd — first saying which
 * requests it remembers; an id with no conversation fails as Claude Code does.
 *
 * Directives anywhere in the prompt (removed before the prompt's first line is used):
 *   [demo:sleep=<ms>]    after the init line, wait <ms> printing nothing, then finish.
 *                        Dies on SIGTERM like any process (used to test cancel and timeout).
 *   [demo:exit=<code>]   exit with <code>; the result line has subtype
 *                        "error_during_execution" and is_error true when <code> is not 0.
 *   [demo:lines=<n>]     print <n> extra assistant text lines of about 80 characters.
 *   [demo:tick=<ms>]     with lines: print one of those lines every <ms>; every line carries
 *                        the wall-clock time of its writing as the top-level JSON field
 *                        "sent_at_ms" (Date.now()), so a benchmark can compute latency.
 *   [demo:bytes=<n>]     write <n> bytes of plain (non-JSON) text lines to stdout as fast as
 *                        the pipe takes them, for throughput benchmarks (the last byte is a
 *                        newline).
 *   [demo:stderr=<text>] write <text> and a newline to stderr. <text> ends at the first ']'.
 *
 * Plain JavaScript with no dependencies so it runs with `node` alone, no build step.
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { isatty } from "node:tty";
import path from "node:path";

const started = Date.now();
const args = parseArgs(process.argv.slice(2));
// Like `claude -p`: the prompt is the argument after -p, or else whatever arrives on stdin.
// `isatty(0)`, not `process.stdin.isTTY`: touching `process.stdin` makes fd 0 non-blocking, and a
// read before the parent has written would then fail with EAGAIN.
const prompt = args.prompt ?? (isatty(0) ? "" : readStdin());
const directives = parseDirectives(prompt);
const model = args.model ?? "demo-1";
const sessionId = args.resume ?? uuidFrom(`session:${prompt}`);
const firstLine =
  prompt
    .replace(/\[demo:[a-z]+=[^\]]*\]/g, "")
    .split("\n")
    .map((l) => l.trim())
    .find(Boolean) ?? "(empty prompt)";
const remembered = keepSession();
let messageCounter = 0;

await main();

async function main() {
  emit({
    type: "system",
    subtype: "init",
    cwd: process.cwd(),
    session_id: sessionId,
    tools: ["Bash", "Edit", "Read", "Write"],
    mcp_servers: [],
    model,
    permissionMode: "default",
    apiKeySource: "none",
  });
  if (remembered.length)
    emit(assistant([{ type: "text", text: `Continuing our conversation; earlier requests: ${remembered.map((r) => `"${r}"`).join(", ")}.` }]));
  if (directives.stderr !== undefined) process.stderr.write(`${directives.stderr}\n`);
  if (directives.sleep) await delay(directives.sleep);

  emit(assistant([{ type: "text", text: `I'll note the request in CODEFORGE_NOTES.md.` }]));

  const file = path.join(process.cwd(), "CODEFORGE_NOTES.md");
  const existed = existsSync(file);
  const before = existed ? readFileSync(file, "utf8") : "";
  const entry = `- ${firstLine}\n`;
  const after = existed ? `${before}${before.endsWith("\n") ? "" : "\n"}${entry}` : `# CodeForge notes\n\n## Requests\n\n${entry}`;
  const toolUseId = `toolu_${hex(`tool:${prompt}`).slice(0, 24)}`;
  const input = existed ? { file_path: file, old_string: before, new_string: after } : { file_path: file, content: after };
  emit(assistant([{ type: "tool_use", id: toolUseId, name: existed ? "Edit" : "Write", input }]));
  writeFileSync(file, after);
  emit({
    type: "user",
    message: {
      role: "user",
      content: [
        { tool_use_id: toolUseId, type: "tool_result", content: existed ? `The file ${file} has been updated.` : `File created successfully at: ${file}` },
      ],
    },
    parent_tool_use_id: null,
    session_id: sessionId,
  });

  for (let i = 1; i <= (directives.lines ?? 0); i++) {
    if (directives.tick) await delay(directives.tick);
    const text = `Line ${String(i).padStart(6, "0")} of ${directives.lines}: the demo CLI is thinking out loud, steadily.`;
    emit({ ...assistant([{ type: "text", text }]), ...(directives.tick !== undefined ? { sent_at_ms: Date.now() } : {}) });
  }

  if (directives.bytes) await writeBulk(directives.bytes);

  const exitCode = directives.exit ?? 0;
  const finalMessage = exitCode === 0 ? `Noted "${firstLine}" in CODEFORGE_NOTES.md.` : `Failed with exit code ${exitCode}.`;
  emit(assistant([{ type: "text", text: finalMessage }]));
  emit({
    type: "result",
    subtype: exitCode === 0 ? "success" : "error_during_execution",
    is_error: exitCode !== 0,
    duration_ms: Date.now() - started,
    duration_api_ms: 0,
    num_turns: 2,
    result: finalMessage,
    session_id: sessionId,
    total_cost_usd: 0,
    usage: { input_tokens: prompt.length, output_tokens: finalMessage.length, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  });
  process.exitCode = exitCode;
}

/**
 * Records this request in the session's file (under HOME, where Claude Code keeps its own) and
 * returns the requests made before it in the session: none for a new one.
 */
function keepSession() {
  if (!process.env.HOME) return [];
  const projects = path.join(process.env.HOME, ".claude", "projects");
  let file = path.join(projects, process.cwd().replace(/[^A-Za-z0-9]/g, "-"), `${sessionId}.jsonl`);
  let earlier = [];
  if (args.resume !== undefined) {
    const dir = (existsSync(projects) ? readdirSync(projects) : []).find((d) => existsSync(path.join(projects, d, `${sessionId}.jsonl`)));
    if (dir === undefined) {
      process.stderr.write(`No conversation found with session ID: ${sessionId}\n`);
      process.exit(1);
    }
    file = path.join(projects, dir, `${sessionId}.jsonl`);
    earlier = readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line).request);
  }
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify({ type: "user", request: firstLine, at: new Date().toISOString() })}\n`);
  return earlier;
}

/** All of stdin, waiting for it: a non-blocking pipe (EAGAIN) is read again after a short pause. */
function readStdin() {
  const chunks = [];
  const buffer = Buffer.alloc(64 * 1024);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let n;
    try {
      n = readSync(0, buffer, 0, buffer.length, null);
    } catch (err) {
      if (err.code === "EAGAIN") {
        Atomics.wait(pause, 0, 0, 5);
        continue;
      }
      if (err.code === "EOF") break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString("utf8");
}

function assistant(content) {
  messageCounter++;
  return {
    type: "assistant",
    message: {
      id: `msg_${hex(`msg:${messageCounter}:${prompt}`).slice(0, 24)}`,
      type: "message",
      role: "assistant",
      model,
      content,
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    },
    parent_tool_use_id: null,
    session_id: sessionId,
  };
}

function emit(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Writes `total` bytes of text, honouring the pipe's backpressure. */
async function writeBulk(total) {
  const block = Buffer.from("The quick brown fox jumps over the lazy dog. 0123456789 abcdefghijklmnopqrstuvwxyz\n".repeat(800));
  let left = total;
  while (left > 0) {
    let piece = left >= block.length ? block : block.subarray(0, left);
    left -= piece.length;
    // End on a newline so the JSON line that follows stays a line of its own.
    if (left === 0 && piece[piece.length - 1] !== 0x0a) {
      piece = Buffer.from(piece);
      piece[piece.length - 1] = 0x0a;
    }
    if (!process.stdout.write(piece)) await new Promise((resolve) => process.stdout.once("drain", resolve));
  }
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-p" || arg === "--print") {
      if (argv[i + 1] !== undefined && !argv[i + 1].startsWith("--")) out.prompt = argv[++i];
    } else if (arg === "--model") out.model = argv[++i];
    else if (arg === "--resume") out.resume = argv[++i];
    else if (arg === "--output-format") out.format = argv[++i];
    // --verbose and unknown flags are accepted and ignored, as a forward-compatible CLI would.
  }
  return out;
}

function parseDirectives(text) {
  const out = {};
  for (const match of text.matchAll(/\[demo:([a-z]+)=([^\]]*)\]/g)) {
    const [, name, value] = match;
    if (name === "stderr") out.stderr = value;
    else if (["sleep", "exit", "lines", "tick", "bytes"].includes(name) && /^\d+$/.test(value)) out[name] = Number(value);
  }
  return out;
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hex(text) {
  return createHash("sha256").update(text).digest("hex");
}

function uuidFrom(text) {
  const h = hex(text);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
