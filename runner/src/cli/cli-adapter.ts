/**
 * What the runner needs to know about one coding CLI.
 *
 * Each CLI has a folder of its own (`claude/`, `aider/`, `codex/`, `gemini/`, `opencode/`,
 * `script/`, `demo/`) holding its adapter (`<name>-adapter.ts`) and, where the CLI prints
 * something to read, the parser of its output. The adapter describes one CLI: how to call it for
 * a non-interactive run, which extra environment it needs, how to read its output, and whether
 * it is installed. Nothing else in the runner knows CLI specifics; what the parsers share is
 * here beside this file (`json-lines-parser.ts`, `agent-events.ts`).
 * @module
 */
import type { AgentEvent, CliName, TokenUsage } from "#api/index.js";
import type { ModelUpstream } from "../sandbox/model-gateway.js";

/**
 * How much the CLI is let do on its own: `full`, its non-interactive full-autonomy mode (run
 * any program, edit any file) — the sandbox is the boundary; `edits`, file edits without asking
 * but no blanket approval to run commands (a task's choice, and the only mode without a sandbox).
 */
export type Autonomy = "full" | "edits";

export interface CliInvocation {
  prompt: string;
  model: string | null;
  /** A directory outside the checkout, for files the CLI reads (a prompt file), as the CLI sees it. */
  scratchDir: string;
  /** The checkout, as the CLI sees it (it also starts there). */
  repoDir?: string;
  autonomy: Autonomy;
  /** Stop after this many agent turns (the task's `max_turns` or the pool's default), where the CLI can count them; null: no limit. */
  maxTurns?: number | null;
  /**
   * The environment the CLI gets from its configuration (`cli_env`, the task's `env`, and with a
   * gateway its URL and placeholder instead of the key). Secrets: only for a CLI that must
   * restate them where a repository cannot override them (Aider's `--env-file`).
   */
  env?: Readonly<Record<string, string>>;
}

export interface CliCommand {
  command: string;
  args: string[];
  /** Written to the CLI's stdin, which is then closed. */
  stdin?: string;
  /** Files to write into `scratchDir` before the CLI starts, by name. */
  files?: Record<string, string>;
  /** Settings for this run that are not secrets (unlike `env()`, not masked in the output). */
  env?: Record<string, string>;
  /**
   * Files to write under the CLI's HOME before it starts (its settings: `.gemini/settings.json`,
   * `.codex/config.toml`, …), by path relative to HOME. Not secrets: never a real key.
   */
  homeFiles?: Record<string, string>;
}

export interface CliAdapter {
  readonly name: CliName;
  /**
   * The executable, its arguments and what to write to its stdin, for one run. Never a shell
   * command line. Prompts belong on stdin: an argument is capped at 128 KiB by the kernel and
   * is readable by every local user through `ps`.
   */
  command(invocation: CliInvocation): CliCommand;
  /**
   * Variables the runner's configuration gives this CLI (its API key, say) beyond the minimal
   * base environment. Treated as secrets: masked in all output. A task's own `env` is laid
   * over them.
   */
  env(): Record<string, string>;
  /** A fresh parser for its stdout, or null when its output is plain text. */
  createParser(): OutputParser | null;
  /** Whether this CLI can run on this machine; checked once at start-up. */
  isAvailable(): Promise<boolean>;
  /** Paths of its installation a sandbox must show it, read-only (see `sandbox/cli-installation.ts`). */
  installation(): Promise<string[]>;
  /**
   * Host patterns of the model API it is configured for (`api.anthropic.com`, or the host of a
   * base URL in its `env`): part of the default egress policy of its attempts.
   */
  egressHosts(): string[];
  /**
   * How this CLI's model calls go through the runner's model gateway (`sandbox/model-gateway.ts`)
   * given the environment it would otherwise get (its `cli_env` and the task's `env`) and the
   * task's model (a CLI with several providers picks one by it: `openai/gpt-5`): where the
   * calls go with which real credential, and the variables that point the CLI at the gateway
   * with the placeholder instead. Null (or absent) when it cannot, or no key is configured: the
   * CLI then holds its key itself, as before.
   */
  modelGateway?(env: Readonly<Record<string, string>>, model?: string | null): GatewayPlan | null;
  /**
   * How its conversation carries over to a follow-up (see `cli-session.ts`); absent: every
   * iteration starts a fresh session.
   */
  session?: CliSessionSupport;
}

/** Where a CLI keeps its sessions under HOME, how its output names one, and how to resume it. */
export interface CliSessionSupport {
  /** Directories under HOME (relative) holding its session files: a session's are those whose path names its id. */
  paths(): string[];
  /** The session id one JSON line of its output announces (its init event); null for other lines. */
  idFrom(json: unknown): string | null;
  /** The run's arguments, changed to resume session `id` instead of starting a new one. */
  resumeArgs(args: readonly string[], id: string): string[];
}

/** A CLI's model calls routed through the gateway. */
export interface GatewayPlan {
  upstream: ModelUpstream;
  /** Variables to remove from the CLI's environment (the real key and endpoint). */
  hide: readonly string[];
  /** Variables that point the CLI at the gateway: given its URL and the attempt's placeholder. */
  env(gatewayUrl: string, placeholder: string): Record<string, string>;
  /**
   * Settings files that point the CLI at the gateway, by path relative to its HOME (laid over
   * the command's `homeFiles`); for CLIs that take an endpoint only from a file (Codex).
   */
  homeFiles?(gatewayUrl: string, placeholder: string): Record<string, string>;
}

/** Turns a CLI's stdout bytes into structured events. One instance per process. */
export interface OutputParser {
  /** Feeds bytes; returns the events completed by them. */
  push(chunk: Uint8Array): AgentEvent[];
  /** Ends the stream; returns events from a last line without a newline. */
  end(): AgentEvent[];
  /** The CLI's closing message (Claude Code's `result` text), once seen. */
  readonly finalMessage: string | null;
  /** The run's cost in US dollars from the CLI's last `result` event, when it reported one. */
  readonly costUsd: number | null;
  /** Token counts from the CLI's last `result` event; null when it reported none. */
  readonly usage: TokenUsage | null;
  /** True once the CLI said it stopped at its turn limit (`max_turns`); absent where a CLI cannot say. */
  readonly turnLimitReached?: boolean;
}

/** Settings every adapter of an installed CLI binary takes. */
export interface BinaryCliOptions {
  /** Executable name (looked up on `pathEnv`) or path; defaults to the CLI's usual name. */
  command?: string;
  /** The runner configuration's `cli_env.<cli>`: API keys and settings for this CLI only. */
  env?: Record<string, string>;
  /** `PATH` the binary is looked up in, for the availability check and for runs. */
  pathEnv: string;
  /** Timeout of the `--version` availability check. */
  probeTimeoutMs?: number;
}
