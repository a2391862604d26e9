// The dependency caches, with the real runner in the real bubblewrap sandbox and the real npm
// against a local registry: a setup's `npm ci` fills its repository's cache, the next task of
// that repository installs with `--offline` (the registry not asked once) and reports a hit;
// the CLI never sees the cache; another repository, or another pool, does not see it; with the
// cache off nothing is lent. And the caches themselves, on the real file system: least recently
// used evicted past the cap, a cache in use never, the lockfile hash over the root's lockfiles.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseCidr } from "#api/index.js";
import { createDependencyCache, dependencyCacheKey, lockfileHash, type DependencyCache } from "../../runner/src/attempt/dependency-cache.js";
import { createScriptAdapter } from "../../runner/src/cli/script/script-adapter.js";
import { createRunnerMetrics } from "../../runner/src/telemetry/runner-metrics.js";
import { npmProjectFiles, startLocalNpmRegistry, type LocalNpmRegistry } from "../support/local-npm-registry.js";
import { createGitFixture, type GitFixture } from "./harness/git-fixture.js";
import { useRunner, type RunnerSetup } from "./harness/use-runner.js";

const LOOPBACK = (() => {
  const parsed = parseCidr("127.0.0.1/32");
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.range;
})();
const REGISTRY_HOST = "registry.codeforge.test";

let cacheRoot: string;
beforeEach(() => {
  cacheRoot = mkdtempSync(path.join(os.tmpdir(), "codeforge-dependency-cache-"));
});
afterEach(() => rmSync(cacheRoot, { recursive: true, force: true }));

const h = useRunner({ doneTimeoutMs: 60_000 });

describe.skipIf(process.platform !== "linux")("a setup's dependency cache", () => {
  let registry: LocalNpmRegistry;
  let app: GitFixture;
  let other: GitFixture;
  beforeAll(async () => {
    registry = await startLocalNpmRegistry({ host: REGISTRY_HOST, exported: "padded from the cache" });
    app = createGitFixture({ ...npmProjectFiles(registry), "README.md": "# App\n" });
    other = createGitFixture({ ...npmProjectFiles(registry), "README.md": "# Other\n" });
  });
  afterAll(async () => {
    app.remove();
    other.remove();
    await registry.close();
  });

  const npmCi = (offline: boolean) =>
    `npm ci --no-audit --no-fund --no-update-notifier --fetch-retries=0 ${offline ? "--offline " : ""}--registry ${registry.url}`;
  // The CLI says whether it sees the cache (or npm's variable pointing at it), then uses what the setup installed.
  const cli = createScriptAdapter({
    command: "/bin/sh",
    args: [
      "-c",
      `{ if [ -e /cache ] || [ -n "$npm_config_cache" ]; then echo cli-sees-cache; else echo cli-sees-no-cache; fi; node -e "console.log(require('left-pad'))"; } > SEEN.md 2>&1`,
    ],
  });

  function runner(dependencyCache: DependencyCache | undefined, register = new Registry()): RunnerSetup {
    return {
      sandbox: "bubblewrap",
      adapters: [cli],
      taskRunner: {
        setup: { commands: [], timeoutSeconds: 60, egressAllow: [`${REGISTRY_HOST}:${registry.port}`], repositoryScript: false },
        egress: { allow: ["unrelated.codeforge.test"], allowedNetworks: [LOOPBACK] },
        lookup: async (host: string) => (host === REGISTRY_HOST ? ["127.0.0.1"] : []),
        metrics: createRunnerMetrics({ register, workspaceRoot: "/nonexistent" }),
        dependencyCache,
      },
    };
  }
  const caches = (pool = "default") => createDependencyCache({ dir: cacheRoot, pool, maxBytes: 64 * 2 ** 20 });
  const on = (fixture: GitFixture, setup: string[]) => h.enqueue({ cli: "script", repo: { url: fixture.url, ref: "main" }, setup });

  it("serves the second npm ci of a repository offline from what the first downloaded, and the CLI never sees it", async () => {
    const register = new Registry();
    await h.start(runner(caches(), register));
    registry.requests.length = 0;
    const first = await h.done(on(app, ['echo "cache at $npm_config_cache"', npmCi(false)]));
    expect(first.error).toBeNull();
    expect(first.result?.phases?.setup?.dependency_cache).toBe("cold");
    expect(registry.requests).toEqual([`GET /${registry.name}/-/${registry.name}-${registry.version}.tgz`]);
    expect(first.result?.patch).toContain("+cli-sees-no-cache\n+padded from the cache");

    registry.requests.length = 0;
    const task = on(app, [npmCi(true)]);
    const second = await h.done(task);
    expect(second.error).toBeNull();
    expect(second.result?.phases?.setup?.dependency_cache).toBe("hit");
    expect(registry.requests).toEqual([]);
    expect(second.result?.patch).toContain("+cli-sees-no-cache\n+padded from the cache");
    expect(h.logs(task)).toContain("Dependency cache: hit (same lockfiles as last time)");
    expect(await register.metrics()).toMatch(/codeforge_runner_dependency_cache_total\{cache="hit"\} 1/);
    expect(await register.metrics()).toMatch(/codeforge_runner_dependency_cache_total\{cache="cold"\} 1/);
  });

  it("is not seen by another repository, nor by the same repository in another pool", async () => {
    await h.start(runner(caches("default")));
    expect((await h.done(on(app, [npmCi(false)]))).result?.phases?.setup?.dependency_cache).toBe("cold");
    registry.requests.length = 0;
    const otherRepo = await h.done(on(other, [npmCi(true)]));
    expect(otherRepo.error?.code).toBe("setup_failed");
    expect(otherRepo.error?.message).toMatch(/ENOTCACHED|offline/i);

    await h.start(runner(caches("gpu")));
    const otherPool = await h.done(on(app, [npmCi(true)]));
    expect(otherPool.error?.code).toBe("setup_failed");
    expect(registry.requests).toEqual([]);
    expect(dependencyCacheKey("gpu", app.url)).not.toBe(dependencyCacheKey("default", app.url));
  });

  it("lends nothing when off: no /cache, no package-manager variables", async () => {
    await h.start(runner(undefined));
    const task = on(app, ['test ! -e /cache && test -z "$npm_config_cache$PIP_CACHE_DIR$CARGO_HOME$GOMODCACHE"', npmCi(false)]);
    const completion = await h.done(task);
    expect(completion.error).toBeNull();
    expect(completion.result?.phases?.setup?.dependency_cache).toBe("off");
    expect(h.logs(task).some((line) => line.startsWith("Dependency cache:"))).toBe(false);
  });
});

describe("the dependency caches on disk", () => {
  const fill = (dir: string, bytes: number) => writeFileSync(path.join(dir, "npm", "blob"), Buffer.alloc(bytes, 1));

  it("evicts the least recently used repository's cache past the cap, never one in use", async () => {
    const cache = createDependencyCache({ dir: cacheRoot, pool: "default", maxBytes: 3 * 2 ** 20 });
    const urls = ["https://git.example/a.git", "https://git.example/b.git", "https://git.example/c.git"];
    for (const url of urls) {
      const held = await cache.acquire(url, "h");
      if (!held) throw new Error("not acquired");
      fill(held.dir, 900 * 1024);
      await held.release(true);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // b is used again: a is now the least recently used.
    await (await cache.acquire(urls[1]!, "h"))?.release(true);
    const inUse = await cache.acquire(urls[0]!, "h");
    const held = await cache.acquire("https://git.example/d.git", "h");
    fill(held!.dir, 900 * 1024);
    await held!.release(true); // 3.6 MB > 3 MiB: the oldest not in use goes — c, since a is held
    const key = (url: string) => dependencyCacheKey("default", url);
    const left = new Set(readdirSync(cacheRoot).filter((name) => name.endsWith(".deps")));
    expect(left).toEqual(new Set([key(urls[0]!), key(urls[1]!), key("https://git.example/d.git")].map((k) => `${k}.deps`)));
    await inUse!.release(true);
    expect(await cache.evict()).toEqual([]);
  });

  it("says hit only for the lockfiles of its last successful setup", async () => {
    const cache = createDependencyCache({ dir: cacheRoot, pool: "default", maxBytes: 2 ** 30 });
    const url = "https://git.example/app.git";
    const first = await cache.acquire(url, "one");
    expect(first?.status).toBe("cold");
    await first!.release(true);
    const same = await cache.acquire(url, "one");
    expect(same?.status).toBe("hit");
    await same!.release(false); // a failed setup: the next is not told it hit
    const after = await cache.acquire(url, "one");
    expect(after?.status).toBe("miss");
    await after!.release(true);
    expect((await cache.acquire(url, "two"))?.status).toBe("miss");
  });

  it("hashes the lockfiles at the checkout's root, and nothing else", async () => {
    const repo = path.join(cacheRoot, "repo");
    mkdirSync(path.join(repo, "sub"), { recursive: true });
    writeFileSync(path.join(repo, "README.md"), "one");
    const empty = await lockfileHash(repo);
    writeFileSync(path.join(repo, "README.md"), "two");
    writeFileSync(path.join(repo, "sub", "package-lock.json"), "{}");
    expect(await lockfileHash(repo)).toBe(empty);
    writeFileSync(path.join(repo, "requirements-dev.txt"), "pytest\n");
    const withPip = await lockfileHash(repo);
    expect(withPip).not.toBe(empty);
    writeFileSync(path.join(repo, "go.sum"), "x\n");
    expect(await lockfileHash(repo)).not.toBe(withPip);
  });
});
