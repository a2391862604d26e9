/**
 * How the output parsers' tests feed a CLI's output to a parser: hand-made JSON lines, whole or
 * cut at a byte (`feed`), or a captured run of the real CLI from its fixtures directory, every
 * event checked against the contract (`parseCaptured`).
 * @module
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { AgentEvent } from "#api/index.js";
import type { OutputParser } from "../../../runner/src/cli/cli-adapter.js";

/** Pushes `lines` (JSON values, or strings as they are) as one output, or as two pieces cut at byte `cut`, then ends it. */
export function feed(parser: OutputParser, lines: unknown[], cut?: number): AgentEvent[] {
  const bytes = Buffer.from(`${lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n")}\n`);
  const pieces = cut === undefined ? [bytes] : [bytes.subarray(0, cut), bytes.subarray(cut)];
  return [...pieces.flatMap((p) => parser.push(p)), ...parser.end()];
}

/** Parses the captured `<name>.jsonl` in `fixtures`; fails the test if an event breaks the contract. */
export function parseCaptured<P extends OutputParser>(parser: P, fixtures: string, name: string): { parser: P; events: AgentEvent[] } {
  const events = [...parser.push(readFileSync(path.join(fixtures, `${name}.jsonl`))), ...parser.end()];
  for (const event of events) expect(AgentEvent.safeParse(event).success).toBe(true);
  return { parser, events };
}
