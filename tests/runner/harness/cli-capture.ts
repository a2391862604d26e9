/**
 * The run-and-redact loop of the capture scripts (`tests/runner/*-capture.ts`): each runs a real
 * coding CLI (the pinned dev dependency) headless against a local fake of its model API, in a
 * temp working directory with a temp HOME, and keeps what it printed as a parser fixture.
 *
 * - `pinnedVersion` and `fixturesDir` name a CLI's fixtures after the version they came from.
 * - `captureCli` runs the CLI once and returns its stdout with this machine's paths and the
 *   fake's address replaced (`/workspace/repo`, `/home/agent`, `/scratch/`,
 *   `https://api.example.com`), so a fixture names no real place.
 * - `writeFixtures` is a capture script's entry point: every scenario (or the one named on the
 *   command line) captured into `<name>.jsonl`.
 * @module
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { REAL_CLI_BIN } from "./real-cli.js";

const ROOT = new URL("../../../", import.meta.url);

/** The version of an npm package as installed (`@openai/codex`, `opencode-ai`, …). */
export function pinnedVersion(pkg: string): string {
  return (JSON.parse(readFileSync(fileURLToPath(new URL(`node_modules/${pkg}/package.json`, ROOT)), "utf8")) as { version: string }).version;
}

/** `tests/runner/fixtures/<name>-<version>/`, where a CLI's captured output is kept. */
export function fixturesDir(name: string, version: string): string {
  return fileURLToPath(new URL(`tests/runner/fixtures/${name}-${version}/`, ROOT));
}

/** How to start the CLI, given the temp dirs it runs in and the fake API's address. */
export interface CliLaunch {
  /** An executable in `node_modules/.bin`, or an absolute path. */
  command: string;
  args: readonly string[];
  /** Its environment besides `PATH` (the pinned CLIs' first) and `HOME` (the temp one). */
  env?: Record<string, string | undefined>;
  /** Written to its stdin, which is then closed (closed at once without it). */
  stdin?: string;
  /** Files to put in HOME first, by HOME-relative path. */
  homeFiles?: Record<string, string>;
}

export interface CaptureOptions {
  /** The fake model API; closed when the CLI is done. */
  api: { url: string; close(): Promise<void> };
  /** Run in a git repository holding `a.txt` ("hello"), rather than an empty directory. */
  repo?: boolean;
  launch(where: { home: string; cwd: string; apiUrl: string }): CliLaunch;
  /** The CLI is killed after this long. */
  timeoutMs?: number;
}

export interface Captured {
  stdout: string;
  exitCode: number | null;
}

/** Runs the CLI once; resolves with its stdout (machine paths and the fake's address replaced) and exit code. */
export async function captureCli(options: CaptureOptions): Promise<Captured> {
  const home = mkdtempSync(path.join(os.tmpdir(), "cli-capture-home-"));
  const cwd = mkdtempSync(path.join(os.tmpdir(), "cli-capture-repo-"));
  try {
    if (options.repo) {
      execFileSync("git", ["init", "-q"], { cwd });
      writeFileSync(path.join(cwd, "a.txt"), "hello\n");
    }
    const launch = options.launch({ home, cwd, apiUrl: options.api.url });
    for (const [file, text] of Object.entries(launch.homeFiles ?? {})) {
      mkdirSync(path.dirname(path.join(home, file)), { recursive: true });
      writeFileSync(path.join(home, file), text);
    }
    const child = spawn(path.resolve(REAL_CLI_BIN, launch.command), launch.args, {
      cwd,
      env: { PATH: `${REAL_CLI_BIN}:${process.env.PATH}`, HOME: home, ...launch.env },
      stdio: ["pipe", "pipe", "ignore"],
    });
    child.stdin.end(launch.stdin);
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 90_000);
    const exitCode = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    clearTimeout(timer);
    return { stdout: withoutMachinePaths(stdout, { cwd, home, apiUrl: options.api.url }), exitCode };
  } finally {
    await options.api.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }
}

function withoutMachinePaths(text: string, where: { cwd: string; home: string; apiUrl: string }): string {
  // Claude Code names its project directory after the working directory, with dashes.
  const dashed = (dir: string) => dir.replace(/[^A-Za-z0-9]/g, "-");
  const apiPath = new URL(where.apiUrl).pathname.replace(/\/$/, "");
  return text
    .replaceAll(where.apiUrl, `https://api.example.com${apiPath}`)
    .replaceAll(where.cwd, "/workspace/repo")
    .replaceAll(dashed(where.cwd), "-workspace-repo")
    .replaceAll(where.home, "/home/agent")
    .replaceAll(`${os.tmpdir()}/`, "/scratch/");
}

/**
 * A capture script's entry point, when `moduleUrl` is the script run: captures every scenario
 * (or only the one named as the first argument) into `<dir>/<name>.jsonl`.
 */
export async function writeFixtures<S>(
  moduleUrl: string,
  dir: string,
  scenarios: Record<string, S>,
  capture: (scenario: S, name: string) => Promise<Captured>,
): Promise<void> {
  if (!process.argv[1] || fileURLToPath(moduleUrl) !== path.resolve(process.argv[1])) return;
  mkdirSync(dir, { recursive: true });
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (process.argv[2] && process.argv[2] !== name) continue;
    const { stdout, exitCode } = await capture(scenario, name);
    writeFileSync(path.join(dir, `${name}.jsonl`), stdout);
    console.log(`${name}: exit ${exitCode}, ${stdout.split("\n").length - 1} lines`);
  }
}
