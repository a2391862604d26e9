// Unit with real git: finding a task's secrets in the whole staged change, however it is laid out.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSecretMasker } from "../../runner/src/secrets/secret-masker.js";
import { filesWithSecrets } from "../../runner/src/secrets/secret-scan.js";

const SECRET = "sk-live-ScanMeIfYouCan-0123456789";
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1", HOME: os.tmpdir() };
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function repoWith(files: Record<string, string>): { repoDir: string; baseSha: string } {
  dir = mkdtempSync(path.join(os.tmpdir(), "codeforge-scan-"));
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: dir, env, encoding: "utf8" }).trim();
  git("init", "-q");
  writeFileSync(path.join(dir, "README.md"), "hello\n");
  git("add", "-A");
  git("commit", "-qm", "base");
  const baseSha = git("rev-parse", "HEAD");
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  git("add", "-A");
  return { repoDir: dir, baseSha };
}

describe("filesWithSecrets", () => {
  it("names the files whose added lines hold a secret, in any encoding, and only those", async () => {
    const repo = repoWith({ "config.json": `{"key": "${SECRET}"}\n`, "notes.md": "nothing here\n", "b64.txt": `${Buffer.from(SECRET).toString("base64")}\n` });
    expect(await filesWithSecrets({ ...repo, env, masker: createSecretMasker([SECRET]) })).toEqual(["b64.txt", "config.json"]);
  });

  it("finds a secret at the end of a line of megabytes, in time linear in its size", async () => {
    const repo = repoWith({ "bundle.js": `${"x".repeat(6 * 1_048_576)}${SECRET}` });
    expect(await filesWithSecrets({ ...repo, env, masker: createSecretMasker([SECRET]) })).toEqual(["bundle.js"]);
  });

  it("finds nothing in a clean change", async () => {
    const repo = repoWith({ "clean.txt": "just text\n" });
    expect(await filesWithSecrets({ ...repo, env, masker: createSecretMasker([SECRET]) })).toEqual([]);
  });
});
