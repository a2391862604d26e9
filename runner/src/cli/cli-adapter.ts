/**
 * What the runner needs to know about one coding CLI.
 *
 * Each adapter file (`demo.ts`, later `claude.ts`, `aider.ts`, …) describes one CLI: how to
 * call it for a non-interactive run, which extra environment it needs, how to read its
 * output, and whether it is installed. Nothing else in the runner knows CLI specifics.
 * @module
 */
import type { AgentEvent, CliName } from "../../../api/index.js";

export interface CliInvocation {
  prompt: string;
  model: string | null;
}

export interface CliAdapter {
  readonly name: CliName;
  /**
   * The executable, its arguments and what to write to its stdin, for one run. Never a shell
   * command line. Prompts belong on stdin: an argument is capped at 128 KiB by the kernel and
   * is readable by every local user through `ps`.
   */
  command(invocation: CliInvocation): { command: string; args: string[]; stdin?: string };
  /** Variables the CLI needs beyond the runner's minimal base environment. */
  env(): Record<string, string>;
  /** A fresh parser for its stdout, or null when its output is plain text. */
  createParser(): OutputParser | null;
  /** Whether this CLI can run on this machine; checked once at start-up. */
  isAvailable(): Promise<boolean>;
}

/** Turns a CLI's stdout bytes into structured events. One instance per process. */
export interface OutputParser {
  /** Feeds bytes; returns the events completed by them. */
  push(chunk: Uint8Array): AgentEvent[];
  /** Ends the stream; returns events from a last line without a newline. */
  end(): AgentEvent[];
  /** The CLI's closing message (Claude Code's `result` text), once seen. */
  readonly finalMessage: string | null;
}
