/**
 * Finds the task's secrets in what the CLI changed, before anything is pushed.
 *
 * Output and the reported patch are masked (`secret-masker.ts`), but a change is different: a
 * masked patch no longer matches the files, and a pushed commit cannot be masked at all. So the
 * whole staged change — not the size-capped patch — is read as a stream (`git diff --cached`
 * against the commit the attempt started from) and every added line is checked for any form of
 * any secret (the value, its base64 and URL encodings). The answer is the files that hold one;
 * the runner then refuses to push (`secret_in_change`) and marks the patch as masked.
 * Call after `summarizeChanges`, which stages everything.
 * @module
 */
import { StringDecoder } from "node:string_decoder";
import { runGit } from "../git/run-git.js";
import type { SecretMasker } from "./secret-masker.js";

/** Past this, the unfinished line is checked and cut down to its overlap. */
const LONG_LINE_CHARS = 1 << 20;
/** Longer than every form of a secret (values up to 16 KiB; base64 and URL encodings grow them). */
const LINE_OVERLAP_CHARS = 64 * 1024;

export interface SecretScanOptions {
  repoDir: string;
  /** The commit the attempt started from. */
  baseSha: string;
  /** Environment for git (see `gitEnv`). */
  env: Record<string, string>;
  masker: SecretMasker;
}

/** Files (their new paths) whose added lines hold a secret, in diff order; empty when none do. */
export async function filesWithSecrets(options: SecretScanOptions): Promise<string[]> {
  if (options.masker.empty) return [];
  const found = new Set<string>();
  const decoder = new StringDecoder("utf8");
  let pending = "";
  let file: string | null = null;
  const line = (text: string) => {
    if (text.startsWith("diff --git ")) {
      file = null;
    } else if (text.startsWith("+++ ")) {
      // `+++ b/<path>` (quoted when it has unusual characters); `/dev/null` for a deletion.
      file = unquote(text.slice(4)).replace(/^b\//, "");
    } else if (text.startsWith("+") && file !== null && !found.has(file) && options.masker.contains(text.slice(1))) {
      found.add(file);
    }
  };
  const diff = ["diff", "--cached", "--no-color", "--no-ext-diff", "--no-textconv", "--unified=0", options.baseSha, "--"];
  await runGit(options, diff, (chunk) => {
    pending += decoder.write(chunk);
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const text of lines) line(text);
    // A very long line (a generated or filler file) is checked piece by piece, keeping an overlap
    // longer than any secret form, so scanning stays linear in its size.
    if (pending.length > LONG_LINE_CHARS && pending.startsWith("+")) {
      line(pending);
      pending = `+${pending.slice(-LINE_OVERLAP_CHARS)}`;
    }
  });
  line(pending + decoder.end());
  return [...found];
}

/** Git's C-style quoting of a path (`"b/sp\\303\\251cial"`), undone; a plain path as it is. */
function unquote(text: string): string {
  if (!text.startsWith('"') || !text.endsWith('"')) return text;
  const bytes: number[] = [];
  const body = text.slice(1, -1);
  const escapes: Record<string, number> = { n: 10, t: 9, '"': 34, "\\": 92, a: 7, b: 8, f: 12, r: 13, v: 11 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"));
      continue;
    }
    const next = body[i + 1] ?? "";
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(escapes[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
