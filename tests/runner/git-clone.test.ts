// Integration: real git repositories cloned through file:// URLs, and the refusals that must
// happen before any git process starts.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloneError, cloneRepository } from "../../runner/src/git/git-clone.js";
import { createGitFixture, git, type GitFixture } from "./harness/git-fixture.js";

let fixture: GitFixture;
let scratch: string;
let n = 0;
beforeAll(() => {
  fixture = createGitFixture();
  scratch = mkdtempSync(path.join(os.tmpdir(), "codeforge-clone-"));
});
afterAll(() => {
  fixture.remove();
  rmSync(scratch, { recursive: true, force: true });
});

function target() {
  return { dir: path.join(scratch, `c${++n}`), homeDir: scratch, pathEnv: process.env.PATH ?? "/usr/bin:/bin" };
}

describe("cloneRepository", () => {
  it("shallow-clones the default branch of a file:// remote in local mode", async () => {
    const t = target();
    const { baseSha } = await cloneRepository({ url: fixture.url, ref: null, ...t, allowFile: true, allowSsh: false });
    expect(baseSha).toBe(fixture.mainSha);
    expect(readFileSync(path.join(t.dir, "README.md"), "utf8")).toBe("# Fixture\n");
    expect(git(t.dir, "rev-parse", "--is-shallow-repository")).toBe("true");
    // --single-branch: the feature branch was not fetched.
    expect(git(t.dir, "branch", "-r")).not.toContain("feature");
  });

  it("checks out a named branch", async () => {
    const t = target();
    const { baseSha } = await cloneRepository({ url: fixture.url, ref: "feature", ...t, allowFile: true, allowSsh: false });
    expect(baseSha).toBe(fixture.featureSha);
    expect(existsSync(path.join(t.dir, "FEATURE.md"))).toBe(true);
  });

  it("checks out a full commit id with a depth-1 fetch", async () => {
    const t = target();
    const { baseSha } = await cloneRepository({ url: fixture.url, ref: fixture.mainSha, ...t, allowFile: true, allowSsh: false });
    expect(baseSha).toBe(fixture.mainSha);
    expect(existsSync(path.join(t.dir, "FEATURE.md"))).toBe(false);
    expect(git(t.dir, "rev-list", "--count", "HEAD")).toBe("1");
  });

  it("reports a missing branch as a CloneError that names the URL and ref", async () => {
    const t = target();
    const err = await cloneRepository({ url: fixture.url, ref: "no-such-branch", ...t, allowFile: true, allowSsh: false }).catch((e) => e);
    expect(err).toBeInstanceOf(CloneError);
    expect(err.message).toContain("no-such-branch");
    expect(err.message).toContain(fixture.url);
  });

  const refused: [string, string, string | null, boolean, RegExp][] = [
    ["file:// outside local mode", "FIXTURE_URL", null, false, /local mode/],
    ["the ext:: transport", "ext::sh -c touch% /tmp/pwned", null, true, /not allowed|whitespace/],
    ["a URL that starts with '-'", "--upload-pack=touch /tmp/pwned", null, true, /must not start with '-'/],
    ["a ref that starts with '-'", "https://example.com/o/r.git", "--upload-pack=evil", true, /ref must not start with '-'/],
    ["credentials in the URL", "https://user:token@example.com/o/r.git", null, true, /credentials/],
    ["plain http", "http://example.com/o/r.git", null, true, /not allowed/],
  ];
  for (const [name, url, ref, allowFile, reason] of refused) {
    it(`refuses ${name} before any process starts`, async () => {
      const t = target();
      const err = await cloneRepository({ url: url === "FIXTURE_URL" ? fixture.url : url, ref, ...t, allowFile, allowSsh: false }).catch((e) => e);
      expect(err).toBeInstanceOf(CloneError);
      expect(err.message).toMatch(reason);
      // Nothing was created: git never ran.
      expect(existsSync(t.dir)).toBe(false);
    });
  }

  it("keeps git's own transport guard on: file:// is refused by git when local mode is off", async () => {
    // Even if a URL check were bypassed, protocol.allow=never stops the file transport.
    const { protocolConfig, gitEnv } = await import("../../runner/src/git/git-hardening.js");
    const { runGit } = await import("../../runner/src/git/run-git.js");
    const t = target();
    const git = { repoDir: scratch, env: gitEnv({ path: t.pathEnv, homeDir: scratch }), config: protocolConfig({ allowFile: false, allowSsh: false }) };
    await expect(runGit(git, ["clone", "--", fixture.url, t.dir])).rejects.toThrow(/transport 'file' not allowed/);
  });
});
