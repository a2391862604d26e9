// Integration: who may read the repository cache. A real git server over HTTPS on loopback
// (`git http-backend`, a private repository that wants a token, a public one that does not),
// real git through the runner's hardening (pinned address, askpass, no redirects): a private
// mirror serves only a task whose own token the remote accepts, and a second clone of a
// repository fetches next to nothing from the remote.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCidr } from "#api/index.js";
import { CloneError, cloneRepository } from "../../runner/src/git/git-clone.js";
import { createRepoCache, mirrorKey, type RepoCache } from "../../runner/src/git/repo-cache.js";
import { createGitFixture, git, type GitFixture } from "./harness/git-fixture.js";
import { GIT_HTTPS_HOST, type GitHttpsServer, serveRepository, startGitHttpsServer } from "../support/git-https-server.js";

const TOKEN = "ghs_CacheAccessToken_0123456789abcdef";
const loopback = parseCidr("127.0.0.0/8");
const allowedNetworks = loopback.ok ? [loopback.range] : [];
const lookup = async (host: string) => (host === GIT_HTTPS_HOST ? ["127.0.0.1"] : []);

let server: GitHttpsServer;
let fixture: GitFixture;
let scratch: string;
let privateUrl: string;
let publicUrl: string;
let n = 0;

beforeAll(async () => {
  // A megabyte of random bytes: what a clone fetches shows in the bytes the server sends.
  fixture = createGitFixture({ "README.md": "# Fixture\n", "blob.bin": randomBytes(1 << 20).toString("base64") });
  server = await startGitHttpsServer({ token: TOKEN });
  const bare = path.join(fixture.dir, "origin.git");
  privateUrl = serveRepository(server, "private/app.git", bare);
  publicUrl = serveRepository(server, "public/lib.git", bare);
  scratch = mkdtempSync(path.join(os.tmpdir(), "codeforge-cache-access-"));
});
afterAll(async () => {
  await server?.close();
  fixture?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

const newCache = (): RepoCache => createRepoCache({ dir: path.join(scratch, `cache${++n}`), maxBytes: 1 << 30 });

function clone(url: string, options: { token?: string | null; cache?: RepoCache } = {}) {
  const base = path.join(scratch, `t${++n}`);
  const credentialsDir = path.join(base, "runner");
  mkdirSync(credentialsDir, { recursive: true });
  return cloneRepository({
    url,
    ref: "main",
    dir: path.join(base, "repo"),
    homeDir: base,
    pathEnv: process.env.PATH ?? "/usr/bin:/bin",
    accessToken: options.token ?? null,
    credentialsDir,
    allowFile: false,
    allowSsh: false,
    allowedNetworks,
    lookup,
    caFile: server.caFile,
    cache: options.cache,
  }).then((result) => ({ ...result, dir: path.join(base, "repo") }));
}

/** Bytes of pack data the server sent while `work` ran. */
async function packBytes<T>(work: () => Promise<T>): Promise<{ result: T; bytes: number }> {
  const from = server.requests.length;
  const result = await work();
  const bytes = server.requests
    .slice(from)
    .filter((r) => r.path.endsWith("/git-upload-pack"))
    .reduce((sum, r) => sum + r.bytes, 0);
  return { result, bytes };
}

/** What is in a mirror: its refs and object files, with their modification times. */
function mirrorState(cache: RepoCache, url: string) {
  const mirror = path.join(cache.dir, `${mirrorKey(url)}.git`);
  if (!existsSync(mirror)) return null;
  const objects = path.join(mirror, "objects");
  const files = readdirSync(objects, { recursive: true }).map(String).sort();
  return { refs: git(mirror, "for-each-ref"), files, times: files.map((f) => statSync(path.join(objects, f)).mtimeMs) };
}

describe("the repository cache and private repositories", () => {
  it("serves a private repository's mirror only to a task whose own token the remote accepts", async () => {
    const cache = newCache();
    const owner = await clone(privateUrl, { token: TOKEN, cache });
    expect(owner.cache).toBe("cold");
    expect(owner.baseSha).toBe(fixture.mainSha);
    const before = mirrorState(cache, privateUrl);
    expect(before?.refs).toContain(fixture.mainSha);
    // The token filled the mirror through askpass: it is nowhere in it.
    const mirror = path.join(cache.dir, `${mirrorKey(privateUrl)}.git`);
    for (const file of readdirSync(mirror, { recursive: true }).map(String)) {
      if (statSync(path.join(mirror, file)).isFile()) expect(readFileSync(path.join(mirror, file)).includes(TOKEN)).toBe(false);
    }

    for (const token of [null, "ghs_SomeoneElsesToken_000000000000000"]) {
      const requestsBefore = server.requests.length;
      const err = await clone(privateUrl, { token, cache }).catch((e) => e);
      expect(err).toBeInstanceOf(CloneError);
      // The error a clone without the cache gives, naming the repository, never a token.
      expect(err.message).toMatch(new RegExp(`^git could not check out ${privateUrl} at main: `));
      expect(err.message).not.toContain(TOKEN);
      const plain = await clone(privateUrl, { token }).catch((e) => e);
      expect(plain).toBeInstanceOf(CloneError);
      expect(plain.message).toMatch(new RegExp(`^git could not check out ${privateUrl} at main: `));
      // Nothing was served: the remote refused and the mirror was neither read nor touched.
      expect(server.requests.slice(requestsBefore).every((r) => r.status === 401 || r.authorized)).toBe(true);
      expect(mirrorState(cache, privateUrl)).toEqual(before);
    }
    const again = await clone(privateUrl, { token: TOKEN, cache });
    expect(again.cache).toBe("hit");
  });

  it("checks a public repository without a token, and a second clone fetches next to nothing from the remote", async () => {
    const cache = newCache();
    const plain = await packBytes(() => clone(publicUrl));
    const first = await packBytes(() => clone(publicUrl, { cache }));
    const second = await packBytes(() => clone(publicUrl, { cache }));
    expect([plain.result.cache, first.result.cache, second.result.cache]).toEqual(["off", "cold", "hit"]);
    expect(second.result.baseSha).toBe(plain.result.baseSha);
    expect(git(second.result.dir, "ls-files", "-s")).toBe(git(plain.result.dir, "ls-files", "-s"));
    // The megabyte came once, into the mirror; the clone from it took it from there.
    expect(plain.bytes).toBeGreaterThan(1 << 20);
    expect(first.bytes).toBeGreaterThan(1 << 20);
    expect(second.bytes).toBeLessThan(20_000);
  });

  it("does not serve a task the cache when the remote no longer lets it in", async () => {
    const cache = newCache();
    await clone(privateUrl, { token: TOKEN, cache });
    // The repository goes away on the server: a task with the once-valid token is refused too.
    const gone = path.join(server.root, "private", "app.git");
    const moved = path.join(server.root, "private", "moved.git");
    renameSync(gone, moved);
    try {
      const err = await clone(privateUrl, { token: TOKEN, cache }).catch((e) => e);
      expect(err).toBeInstanceOf(CloneError);
    } finally {
      renameSync(moved, gone);
    }
  });
});
