/**
 * Section 8 of `npm run bench`: a clone of a ~200 MB repository by the runner's own clone code
 * (`cloneRepository`, every check and setting a task's clone has), without the repository
 * cache, into a cold cache (its mirror made by that clone) and from a warm one (target: ≤ 15 %
 * of the clone without a cache).
 *
 * The repository is generated once per run: `COMMITS` commits, each adding a file of random
 * (incompressible) bytes, so the one commit a task checks out holds all of them. It is served
 * over HTTPS by `git http-backend` on loopback (tests/support/git-https-server.ts, the server
 * the cache's access tests use), paced to each of `LINKS_MB_PER_S` as a link to a git host
 * would be, and once more unpaced, where only the machine's own work is left. A clone from a
 * warm mirror still copies the commit's 200 MB into the checkout's own pack (about a second
 * here) and writes the files: that floor is what the clone without a cache is measured against,
 * so the slower the link, the larger the saving.
 * @module
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCidr } from "#api/index.js";
import { cloneRepository } from "../runner/src/git/git-clone.js";
import { createRepoCache, type RepoCache } from "../runner/src/git/repo-cache.js";
import { GIT_HTTPS_HOST, serveRepository, startGitHttpsServer } from "../tests/support/git-https-server.js";
import { printTable } from "./stats.js";

const COMMITS = 20;
const FILE_BYTES = 10 * 1024 * 1024;
/** Links from a runner to a hosted git service: a fast one (400 Mbit/s) and a common one (80 Mbit/s). */
const LINKS_MB_PER_S = [50, 10];
/** Warm clones measured; the median is shown. */
const WARM_ROUNDS = 3;

const GIT_ENV = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Bench",
  GIT_AUTHOR_EMAIL: "bench@example.com",
  GIT_COMMITTER_NAME: "Bench",
  GIT_COMMITTER_EMAIL: "bench@example.com",
};
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, env: GIT_ENV, stdio: "ignore" });

/** The ~200 MB repository: a bare repository in one pack. */
function generateRepository(dir: string, commits: number, fileBytes: number): string {
  const work = join(dir, "work");
  mkdirSync(work, { recursive: true });
  git(work, "init", "--quiet", "--initial-branch=main");
  for (let i = 0; i < commits; i++) {
    writeFileSync(join(work, `blob-${String(i).padStart(2, "0")}.bin`), randomBytes(fileBytes));
    git(work, "-c", "core.compression=1", "add", "-A");
    git(work, "commit", "--quiet", "-m", `commit ${i}`);
  }
  const bare = join(dir, "repo.git");
  git(dir, "clone", "--quiet", "--bare", "--", work, bare);
  git(bare, "-c", "pack.window=0", "-c", "pack.compression=1", "repack", "-a", "-d", "-q");
  rmSync(work, { recursive: true, force: true });
  return bare;
}

export async function repoCacheFigures(label: string, options: { stateDir: string; commits?: number; fileBytes?: number }): Promise<void> {
  const { commits = COMMITS, fileBytes = FILE_BYTES } = options;
  const dir = join(options.stateDir, "repo-cache");
  mkdirSync(dir, { recursive: true });
  const bare = generateRepository(dir, commits, fileBytes);
  const loopback = parseCidr("127.0.0.0/8");
  const rows: string[][] = [];
  for (const bytesPerSecond of [...LINKS_MB_PER_S.map((mb) => mb * 1_000_000), undefined]) {
    const server = await startGitHttpsServer({ token: "unused", bytesPerSecond });
    try {
      const url = serveRepository(server, "public/big.git", bare);
      let n = 0;
      const clone = async (cache?: RepoCache) => {
        const base = join(dir, `clone-${++n}`);
        mkdirSync(base);
        const started = performance.now();
        const result = await cloneRepository({
          url,
          ref: "main",
          dir: join(base, "repo"),
          homeDir: base,
          pathEnv: GIT_ENV.PATH,
          allowFile: false,
          allowSsh: false,
          allowedNetworks: loopback.ok ? [loopback.range] : [],
          lookup: async (host) => (host === GIT_HTTPS_HOST ? ["127.0.0.1"] : []),
          caFile: server.caFile,
          cache,
        });
        const seconds = (performance.now() - started) / 1_000;
        rmSync(base, { recursive: true, force: true });
        return { seconds, cache: result.cache };
      };
      const cache = createRepoCache({ dir: join(dir, `cache-${bytesPerSecond ?? "loopback"}`), maxBytes: 2 ** 40 });
      const plain = await clone();
      const cold = await clone(cache);
      const warm: { seconds: number; cache: string }[] = [];
      for (let i = 0; i < WARM_ROUNDS; i++) warm.push(await clone(cache));
      const median = warm.map((w) => w.seconds).sort((a, b) => a - b)[Math.floor(WARM_ROUNDS / 2)]!;
      const link = bytesPerSecond ? `${bytesPerSecond / 1_000_000} MB/s` : "loopback, unpaced";
      const pct = (s: number) => `${((100 * s) / plain.seconds).toFixed(0)} %`;
      rows.push([link, "no cache (shallow clone)", `${plain.seconds.toFixed(2)} s`, "100 %", plain.cache]);
      rows.push([link, "cold cache (mirror made)", `${cold.seconds.toFixed(2)} s`, pct(cold.seconds), cold.cache]);
      rows.push([link, `warm cache (median of ${WARM_ROUNDS})`, `${median.toFixed(2)} s`, pct(median), warm.map((w) => w.cache).join(",")]);
    } finally {
      await server.close();
    }
  }
  const size = Math.round((commits * fileBytes) / 2 ** 20);
  console.log(
    `\n${label}. Clone of a ${size} MiB repository (${commits} commits of random bytes) over HTTPS, by the runner's clone code (target: warm ≤ 15 % of no cache)`,
  );
  printTable([["remote", "clone", "time", "of no cache", "cache"], ...rows]);
  rmSync(dir, { recursive: true, force: true });
}
