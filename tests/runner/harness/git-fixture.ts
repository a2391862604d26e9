/**
 * Real git repositories for runner tests: a bare "remote" with a commit on `main` (and a
 * `feature` branch), reachable through a `file://` URL, in a temp directory of its own.
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

export interface GitFixture {
  dir: string;
  /** `file://` URL of the bare remote. */
  url: string;
  mainSha: string;
  featureSha: string;
  remove(): void;
}

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com",
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8" }).trim();
}

export function createGitFixture(files: Record<string, string> = { "README.md": "# Fixture\n", "src/app.txt": "one\ntwo\n" }): GitFixture {
  const dir = mkdtempSync(path.join(os.tmpdir(), "codeforge-git-"));
  const bare = path.join(dir, "origin.git");
  const work = path.join(dir, "work");
  git(dir, "init", "--quiet", "--bare", "--initial-branch=main", bare);
  git(dir, "init", "--quiet", "--initial-branch=main", work);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(work, name)), { recursive: true });
    writeFileSync(path.join(work, name), content);
  }
  git(work, "add", "-A");
  git(work, "commit", "--quiet", "-m", "initial");
  const mainSha = git(work, "rev-parse", "HEAD");
  git(work, "checkout", "--quiet", "-b", "feature");
  writeFileSync(path.join(work, "FEATURE.md"), "feature branch\n");
  git(work, "add", "-A");
  git(work, "commit", "--quiet", "-m", "feature");
  const featureSha = git(work, "rev-parse", "HEAD");
  git(work, "push", "--quiet", bare, "main", "feature");
  return {
    dir,
    url: pathToFileURL(bare).href,
    mainSha,
    featureSha,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
