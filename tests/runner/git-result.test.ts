// Integration: the change summary of a real checkout after edits, additions, deletions,
// renames and commits, with the patch and file-list caps.
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cloneRepository } from "../../runner/src/git/git-clone.js";
import { gitEnv } from "../../runner/src/git/git-hardening.js";
import { parseShortstat, summarizeChanges } from "../../runner/src/git/git-result.js";
import { createGitFixture, git, type GitFixture } from "./harness/git-fixture.js";

let fixture: GitFixture;
let scratch: string;
let repo: string;
let baseSha: string;
const pathEnv = process.env.PATH ?? "/usr/bin:/bin";
const env = () => gitEnv({ path: pathEnv, homeDir: scratch });

beforeEach(async () => {
  fixture = createGitFixture({ "README.md": "# Fixture\n", "src/app.txt": "one\ntwo\n", "old-name.txt": "rename me\n".repeat(20) });
  scratch = mkdtempSync(path.join(os.tmpdir(), "codeforge-result-"));
  repo = path.join(scratch, "repo");
  ({ baseSha } = await cloneRepository({ url: fixture.url, ref: "main", dir: repo, homeDir: scratch, pathEnv, allowFile: true, allowSsh: false }));
});
afterEach(() => {
  fixture.remove();
  rmSync(scratch, { recursive: true, force: true });
});

describe("summarizeChanges", () => {
  it("lists added, modified, deleted and renamed files with a diff stat and a patch", async () => {
    writeFileSync(path.join(repo, "NEW.md"), "brand new\n");
    writeFileSync(path.join(repo, "src/app.txt"), "one\n2\nthree\n");
    unlinkSync(path.join(repo, "README.md"));
    renameSync(path.join(repo, "old-name.txt"), path.join(repo, "new-name.txt"));

    const summary = await summarizeChanges({ repoDir: repo, baseSha, env: env() });
    expect(summary.changed_files).toEqual(
      expect.arrayContaining([
        { path: "NEW.md", status: "added" },
        { path: "src/app.txt", status: "modified" },
        { path: "README.md", status: "deleted" },
        { path: "new-name.txt", status: "renamed" },
      ]),
    );
    expect(summary.changed_files).toHaveLength(4);
    expect(summary.changed_files_truncated).toBe(false);
    expect(summary.diff_stat).toEqual({ files_changed: 4, insertions: 3, deletions: 2 });
    expect(summary.patch).toContain("+brand new");
    expect(summary.patch).toContain("-two");
    expect(summary.patch).toContain("rename from old-name.txt");
    expect(summary.patch_truncated).toBe(false);
  });

  it("counts changes the CLI committed itself", async () => {
    writeFileSync(path.join(repo, "COMMITTED.md"), "committed by the agent\n");
    git(repo, "add", "-A");
    git(repo, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "--quiet", "-m", "agent commit");
    const summary = await summarizeChanges({ repoDir: repo, baseSha, env: env() });
    expect(summary.changed_files).toEqual([{ path: "COMMITTED.md", status: "added" }]);
  });

  it("reports no changes as empty", async () => {
    const summary = await summarizeChanges({ repoDir: repo, baseSha, env: env() });
    expect(summary).toEqual({
      changed_files: [],
      changed_files_truncated: false,
      diff_stat: { files_changed: 0, insertions: 0, deletions: 0 },
      patch: "",
      patch_truncated: false,
    });
  });

  it("cuts the patch at the byte cap on a line end and the file list at its cap", async () => {
    for (let i = 0; i < 30; i++) writeFileSync(path.join(repo, `file-${String(i).padStart(2, "0")}.txt`), `line ${i} ✓\n`.repeat(200));
    const summary = await summarizeChanges({ repoDir: repo, baseSha, env: env(), patchMaxBytes: 10_000, changedFilesMax: 5 });
    expect(summary.patch_truncated).toBe(true);
    expect(Buffer.byteLength(summary.patch)).toBeLessThanOrEqual(10_000);
    expect(summary.patch.endsWith("\n")).toBe(true);
    expect(summary.patch).not.toContain("\uFFFD");
    expect(summary.changed_files).toHaveLength(5);
    expect(summary.changed_files_truncated).toBe(true);
    expect(summary.diff_stat.files_changed).toBe(30);
    expect(summary.diff_stat.insertions).toBe(30 * 200);
  });

  it("ignores an fsmonitor command planted in the checkout's config", async () => {
    const marker = path.join(scratch, "fsmonitor-ran");
    git(repo, "config", "core.fsmonitor", `touch ${marker}; false`);
    writeFileSync(path.join(repo, "x.txt"), "x\n");
    await summarizeChanges({ repoDir: repo, baseSha, env: env() });
    const { existsSync } = await import("node:fs");
    expect(existsSync(marker)).toBe(false);
  });
});

describe("parseShortstat", () => {
  it("reads git's summary line in singular and plural", () => {
    expect(parseShortstat(" 1 file changed, 1 insertion(+)\n")).toEqual({ files_changed: 1, insertions: 1, deletions: 0 });
    expect(parseShortstat(" 3 files changed, 10 insertions(+), 2 deletions(-)\n")).toEqual({ files_changed: 3, insertions: 10, deletions: 2 });
    expect(parseShortstat("")).toEqual({ files_changed: 0, insertions: 0, deletions: 0 });
  });
});
