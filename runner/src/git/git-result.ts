/**
 * What the CLI changed: staged files with their status, a diff stat, and a size-capped patch.
 *
 * Everything is staged (`git add -A`) and compared with the commit that was checked out, so
 * changes the CLI committed itself are counted as well as those it left in the tree. Git's
 * output is read as a stream and never held whole: the file list stops growing at
 * `CHANGED_FILES_MAX` entries or 256 KiB of paths (still counting), and the patch stops at
 * `PATCH_MAX_BYTES`, cut at a line end, with the git process stopped as soon as the cap is
 * reached.
 * @module
 */
import { CHANGED_FILES_MAX, PATCH_MAX_BYTES, type ChangedFile, type DiffStat } from "#api/index.js";
import { runGit } from "./run-git.js";

export interface ChangeSummary {
  changed_files: ChangedFile[];
  changed_files_truncated: boolean;
  diff_stat: DiffStat;
  patch: string;
  patch_truncated: boolean;
}

export interface SummarizeOptions {
  repoDir: string;
  /** The commit checked out before the CLI ran. */
  baseSha: string;
  /** Environment for git (see `gitEnv`). */
  env: Record<string, string>;
  patchMaxBytes?: number;
  changedFilesMax?: number;
}

/**
 * Path bytes listed in `changed_files`: with the capped patch, keeps a completion report well
 * under the edge's 1 MiB body limit even when paths are long.
 */
const CHANGED_PATHS_MAX_BYTES = 262_144;

/**
 * Stages the checkout and describes its changes against `baseSha`.
 * @example
 * const summary = await summarizeChanges({ repoDir: ws.repoDir, baseSha, env: gitEnv({ path, homeDir }) });
 */
export async function summarizeChanges(options: SummarizeOptions): Promise<ChangeSummary> {
  const { patchMaxBytes = PATCH_MAX_BYTES, changedFilesMax = CHANGED_FILES_MAX } = options;
  const git = (args: string[], onData?: (chunk: Buffer) => "stop" | void) => runGit(options, args, onData);
  const diff = ["diff", "--cached", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames"];

  await git(["add", "--all", "--", "."]);

  const names = createNulTokenizer();
  const changed: ChangedFile[] = [];
  let listed = 0;
  let pendingStatus: { status: ChangedFile["status"]; paths: number } | null = null;
  let pathsSeen = 0;
  let pathBytes = 0;
  await git([...diff, "--name-status", "-z", options.baseSha, "--"], (chunk) => {
    for (const token of names.push(chunk)) {
      if (!pendingStatus) {
        pendingStatus = { status: statusFromLetter(token), paths: /^[RC]/.test(token) ? 2 : 1 };
        pathsSeen = 0;
        continue;
      }
      if (++pathsSeen < pendingStatus.paths) continue; // the old path of a rename or copy
      listed++;
      pathBytes += Buffer.byteLength(token);
      if (changed.length < changedFilesMax && pathBytes <= CHANGED_PATHS_MAX_BYTES) changed.push({ path: token, status: pendingStatus.status });
      pendingStatus = null;
    }
  });

  let shortstat = "";
  await git([...diff, "--shortstat", options.baseSha, "--"], (chunk) => {
    shortstat += chunk.toString("utf8");
  });

  const patchChunks: Buffer[] = [];
  let patchBytes = 0;
  let patchTruncated = false;
  await git([...diff, "--binary", options.baseSha, "--"], (chunk) => {
    if (patchBytes + chunk.length <= patchMaxBytes) {
      patchChunks.push(chunk);
      patchBytes += chunk.length;
      return;
    }
    patchChunks.push(chunk.subarray(0, patchMaxBytes - patchBytes));
    patchBytes = patchMaxBytes;
    patchTruncated = true;
    return "stop";
  });
  let patch = Buffer.concat(patchChunks, patchBytes);
  if (patchTruncated) {
    const lastNewline = patch.lastIndexOf(0x0a);
    if (lastNewline >= 0) patch = patch.subarray(0, lastNewline + 1);
  }

  return {
    changed_files: changed,
    changed_files_truncated: listed > changed.length,
    diff_stat: parseShortstat(shortstat),
    // Non-UTF-8 file content turns into U+FFFD; `--binary` hunks are ASCII.
    patch: new TextDecoder().decode(patch),
    patch_truncated: patchTruncated,
  };
}

/** Splits a stream of NUL-terminated tokens; a token split across chunks is joined. */
function createNulTokenizer() {
  let partial: Buffer[] = [];
  return {
    push(chunk: Buffer): string[] {
      const tokens: string[] = [];
      let start = 0;
      for (let nul = chunk.indexOf(0, start); nul !== -1; nul = chunk.indexOf(0, start)) {
        partial.push(chunk.subarray(start, nul));
        tokens.push(Buffer.concat(partial).toString("utf8"));
        partial = [];
        start = nul + 1;
      }
      if (start < chunk.length) partial.push(chunk.subarray(start));
      return tokens;
    },
  };
}

function statusFromLetter(token: string): ChangedFile["status"] {
  switch (token[0]) {
    case "A":
      return "added";
    case "D":
      return "deleted";
    case "R":
      return "renamed";
    case "C":
      return "copied";
    case "T":
      return "type_changed";
    default:
      return "modified";
  }
}

/** ` 3 files changed, 10 insertions(+), 2 deletions(-)` → numbers; empty → zeros. */
export function parseShortstat(text: string): DiffStat {
  const number = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    files_changed: number(/(\d+) files? changed/),
    insertions: number(/(\d+) insertions?\(\+\)/),
    deletions: number(/(\d+) deletions?\(-\)/),
  };
}
