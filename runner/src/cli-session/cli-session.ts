/**
 * A CLI's conversation across a task's iterations: a follow-up's agent remembers what it was
 * asked and did before, instead of meeting the code afresh.
 *
 * Before the CLI starts, the previous iteration's session (the lease's `resume`) is unpacked
 * into the attempt's HOME — only under the directories the adapter names, only files whose path
 * names the session id — and the CLI gets its resume arguments (`CliSessionSupport`). Anything
 * in the way (another CLI's session, an archive that does not unpack, a CLI that cannot resume)
 * means a fresh session, and the task's log says which and why.
 *
 * While the CLI runs, its first output lines are read for the session id (Claude Code's
 * `system/init`, Codex's `thread.started`). After it ends with a result, that session's files
 * are packed (`session-archive.ts`) and sent to the edge with the lease, before the completion;
 * a session over `CLI_SESSION_MAX_BYTES` compressed is not sent, and the log says so. The files
 * are read without following symbolic links and only when they really lie under HOME, so an
 * agent cannot plant a link that makes the runner upload a file of its own host. Nothing here
 * fails a task: at worst the next iteration starts fresh.
 * @module
 */
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, readlink, realpath, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { CLI_SESSION_MAX_BYTES, type CliSession, type Lease } from "#api/index.js";
import { backoffDelayMs, sleep } from "../edge-link/backoff.js";
import type { CliAdapter, CliCommand, CliSessionSupport } from "../cli/cli-adapter.js";
import type { EdgeClient } from "../edge-link/edge-client.js";
import { classifyEdgeError, describeEdgeError } from "../edge-link/edge-error.js";
import { createLineSplitter } from "../output/line-splitter.js";
import { isPlainRelativePath, packSession, SESSION_FILES_MAX_BYTES, SessionArchiveError, unpackSession, type SessionFile } from "./session-archive.js";

/** The CLIs announce their session in their first lines; later lines are not read for it. */
const ID_SCAN_LINES = 50;

/** The init line can list many tools; a longer line is not an init line. */
const ID_LINE_MAX_BYTES = 1_048_576;

/** Tries of the upload through network trouble: it is worth a little, not a stuck task. */
const UPLOAD_TRIES = 3;

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface CliSessionOptions {
  adapter: CliAdapter;
  lease: Lease;
  /** The attempt's HOME on the runner's side (the workspace's `home/`). */
  homeDir: string;
  client: Pick<EdgeClient, "saveSession">;
  /** Writes a line to the task's log. */
  say(level: "info" | "warn", message: string): void;
  log: Logger;
  signal?: AbortSignal;
}

export interface CliSessionKeeper {
  /** Restores the previous iteration's session and returns the command that resumes it, or `command` unchanged. */
  prepare(command: CliCommand): Promise<CliCommand>;
  /** Feeds the CLI's stdout, to learn its session id. */
  observe(chunk: Uint8Array): void;
  /** After the CLI ended with a result: sends its session to the edge with the lease. Never throws. */
  save(): Promise<void>;
}

/**
 * @example
 * const session = createCliSession({ adapter, lease, homeDir: ws.homeDir, client, say: batcher.log, log });
 * const command = await session.prepare(adapter.command(invocation));
 */
export function createCliSession(options: CliSessionOptions): CliSessionKeeper {
  const { adapter, lease, say, log } = options;
  const support = adapter.session;
  const cli = lease.task.cli;
  const lines = createLineSplitter({ lineMaxBytes: ID_LINE_MAX_BYTES });
  let linesSeen = 0;
  let sessionId: string | null = null;

  return {
    async prepare(command) {
      const resume = lease.task.resume;
      if (!resume) {
        if (lease.task.iteration > 1) say("info", `Starting a fresh ${cli} session: the previous iteration left none to resume.`);
        return command;
      }
      if (!support) {
        say("info", `${cli} does not resume sessions on CodeForge; starting a fresh session.`);
        return command;
      }
      if (resume.cli !== cli) {
        say("warn", `The previous iteration's session is ${resume.cli}'s, not ${cli}'s; starting a fresh session.`);
        return command;
      }
      try {
        await restore(support, options.homeDir, resume);
      } catch (err) {
        const why = err instanceof SessionArchiveError ? err.message : "the files could not be written";
        log.warn({ err: String(err) }, "could not restore the CLI session");
        say("warn", `Could not restore the previous iteration's ${cli} session (${why}); starting a fresh session.`);
        return command;
      }
      say("info", `Resuming the previous iteration's ${cli} session.`);
      return { ...command, args: support.resumeArgs(command.args, resume.session_id) };
    },

    observe(chunk) {
      if (!support || sessionId !== null || linesSeen >= ID_SCAN_LINES) return;
      for (const line of lines.push(chunk)) {
        if (++linesSeen > ID_SCAN_LINES) return;
        const trimmed = line.trim();
        if (!trimmed.startsWith("{")) continue;
        try {
          const id = support.idFrom(JSON.parse(trimmed));
          if (id !== null && SESSION_ID.test(id)) {
            sessionId = id;
            return;
          }
        } catch {
          // Not JSON: not the line that names the session.
        }
      }
    },

    async save() {
      if (!support) return;
      if (sessionId === null) {
        say("warn", `${cli} named no session in its output; a follow-up will start a fresh session.`);
        return;
      }
      let archive: Buffer;
      try {
        const files = await collect(support, options.homeDir, sessionId);
        if (files === "too_big") {
          say(
            "warn",
            `The ${cli} session is more than ${SESSION_FILES_MAX_BYTES / 1_048_576} MiB of files; it is not kept, and a follow-up will start a fresh session.`,
          );
          return;
        }
        if (files.length === 0) {
          say("warn", `${cli} left no files of its session; a follow-up will start a fresh session.`);
          return;
        }
        archive = packSession(files);
      } catch (err) {
        log.warn({ err: String(err) }, "could not read the CLI session");
        say("warn", `Could not read the ${cli} session; a follow-up will start a fresh session.`);
        return;
      }
      if (archive.length > CLI_SESSION_MAX_BYTES) {
        say(
          "warn",
          `The ${cli} session is ${mib(archive.length)} MiB compressed, more than the ${mib(CLI_SESSION_MAX_BYTES)} MiB kept; a follow-up will start a fresh session.`,
        );
        return;
      }
      const session: CliSession = { cli, session_id: sessionId, archive: archive.toString("base64") };
      for (let attempt = 1; ; attempt++) {
        try {
          const ack = await options.client.saveSession(lease.task_id, { lease_id: lease.lease_id, session }, options.signal);
          // An edge without a key for task secrets keeps no session.
          if (ack.stored) say("info", `Kept the ${cli} session for a follow-up (${Math.max(1, Math.round(archive.length / 1_024))} KiB compressed).`);
          else say("warn", `The edge keeps no ${cli} sessions (it has no key for task secrets); a follow-up will start a fresh session.`);
          return;
        } catch (err) {
          if (classifyEdgeError(err) !== "retryable" || attempt >= UPLOAD_TRIES || options.signal?.aborted) {
            log.warn({ err: describeEdgeError(err) }, "could not keep the CLI session");
            say("warn", `Could not keep the ${cli} session for a follow-up; a follow-up will start a fresh session.`);
            return;
          }
          await sleep(backoffDelayMs(attempt), options.signal);
        }
      }
    },
  };
}

/** Writes the archive's files into a fresh HOME; every path must be a session file under one of the CLI's session directories. */
async function restore(support: CliSessionSupport, homeDir: string, session: CliSession): Promise<void> {
  const files = unpackSession(Buffer.from(session.archive, "base64"));
  const roots = support.paths();
  for (const file of files) {
    const root = roots.find((dir) => file.path.startsWith(`${dir}/`));
    if (!root || !file.path.slice(root.length + 1).includes(session.session_id)) throw new SessionArchiveError("it holds a file that is not the session's");
  }
  for (const file of files) {
    const target = path.join(homeDir, ...file.path.split("/"));
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    // `wx`: HOME is new, so anything already there would be a surprise; never write through it.
    await writeFile(target, file.data, { mode: 0o600, flag: "wx" });
  }
}

/** The session's files under the CLI's session directories, or "too_big" past the size limit. */
async function collect(support: CliSessionSupport, homeDir: string, id: string): Promise<SessionFile[] | "too_big"> {
  const home = await realpath(homeDir);
  const files: SessionFile[] = [];
  let total = 0;
  for (const root of support.paths()) {
    if (!isPlainRelativePath(root) || !(await isRealDirectory(home, root))) continue;
    for (const relative of await walk(home, root)) {
      if (!relative.slice(root.length + 1).includes(id)) continue;
      const data = await readUnder(home, relative, SESSION_FILES_MAX_BYTES - total);
      if (data === "too_big") return "too_big";
      if (data === null) continue;
      total += data.byteLength;
      files.push({ path: relative, data });
    }
  }
  return files;
}

/** True when every part of `relative` below `home` is a real directory, not a link. */
async function isRealDirectory(home: string, relative: string): Promise<boolean> {
  let at = home;
  for (const part of relative.split("/")) {
    at = path.join(at, part);
    const stat = await lstat(at).catch(() => null);
    if (!stat?.isDirectory()) return false;
  }
  return true;
}

/** Regular files below `home/root`, as HOME-relative paths; links are neither followed nor listed. */
async function walk(home: string, root: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(path.join(home, root), { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const relative = `${root}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await walk(home, relative)));
    else if (entry.isFile()) out.push(relative);
  }
  return out;
}

/**
 * Reads a file that must really lie under `home`: opened without following a final link, then
 * checked by the path the kernel says it opened (a directory swapped for a link meanwhile would
 * show). Null when it is not a regular file under HOME.
 */
async function readUnder(home: string, relative: string, budget: number): Promise<Uint8Array | "too_big" | null> {
  const handle = await open(path.join(home, ...relative.split("/")), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return null;
  try {
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => realpath(path.join(home, ...relative.split("/"))));
    if (!opened.startsWith(`${home}${path.sep}`)) return null;
    const stat = await handle.stat();
    if (!stat.isFile()) return null;
    if (stat.size > budget) return "too_big";
    const data = await handle.readFile();
    return data.byteLength > budget ? "too_big" : data;
  } finally {
    await handle.close();
  }
}

function mib(bytes: number): string {
  return (bytes / 1_048_576).toFixed(1);
}
