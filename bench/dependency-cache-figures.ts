/**
 * Section 9 of `npm run bench`: `npm ci` of a small project (`PACKAGES` dependencies, each from
 * a local registry of its own) with a cold dependency cache and with a warm one, through the
 * runner's own cache mechanics (`createDependencyCache`, `dependencyCacheEnv`: the directory and
 * variables a setup is lent), run directly rather than in a sandbox. Each cold round gets a
 * repository never seen (a fresh cache); each warm round the same repository again, its
 * `node_modules` gone. Measured with the registry answering at once (loopback) and after
 * `DELAY_MS` per request, as a registry across a network would; the table counts the requests
 * the registry saw, which a warm cache brings to none. npm fetches the tarballs side by side,
 * so a registry's latency is paid about once: the time saved grows with the size and number
 * of the packages (and a link's bandwidth) more than with the latency.
 * @module
 */
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { createDependencyCache, dependencyCacheEnv, lockfileHash } from "../runner/src/attempt/dependency-cache.js";
import { startLocalNpmRegistry, type LocalNpmRegistry } from "../tests/support/local-npm-registry.js";
import { printTable } from "./stats.js";

const PACKAGES = 20;
/** A registry's round trip from a runner in another region. */
const DELAY_MS = 40;
const ROUNDS = 3;

/** The project's files: one dependency on each registry's package, locked. */
function writeProject(dir: string, registries: readonly LocalNpmRegistry[]): void {
  const dependencies = Object.fromEntries(registries.map((r) => [r.name, r.version]));
  const locked = Object.fromEntries(registries.map((r) => [`node_modules/${r.name}`, { version: r.version, resolved: r.tarballUrl, integrity: r.integrity }]));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-app", version: "1.0.0", private: true, dependencies }));
  writeFileSync(
    join(dir, "package-lock.json"),
    JSON.stringify({
      name: "bench-app",
      version: "1.0.0",
      lockfileVersion: 3,
      requires: true,
      packages: { "": { name: "bench-app", version: "1.0.0", dependencies }, ...locked },
    }),
  );
}

export async function dependencyCacheFigures(label: string, options: { stateDir: string }): Promise<void> {
  const dir = join(options.stateDir, "dependency-cache");
  const rows: string[][] = [];
  for (const delayMs of [DELAY_MS, 0]) {
    rmSync(dir, { recursive: true, force: true });
    const registries: LocalNpmRegistry[] = [];
    try {
      for (let i = 0; i < PACKAGES; i++) {
        registries.push(await startLocalNpmRegistry({ host: "127.0.0.1", name: `bench-dep-${i}`, version: "1.0.0", delayMs }));
      }
      const project = join(dir, "project");
      writeProject(project, registries);
      const caches = createDependencyCache({ dir: join(dir, "caches"), pool: "bench", maxBytes: 2 ** 30 });
      const lockHash = await lockfileHash(project);
      let repos = 0;
      const npmCi = async (repoUrl: string) => {
        rmSync(join(project, "node_modules"), { recursive: true, force: true });
        const held = await caches.acquire(repoUrl, lockHash);
        if (!held) throw new Error("the dependency cache was busy");
        for (const r of registries) r.requests.length = 0;
        const started = performance.now();
        // Not execFileSync: the registries answer from this process.
        await promisify(execFile)("npm", ["ci", "--no-audit", "--no-fund", "--no-update-notifier", "--fetch-retries=0"], {
          cwd: project,
          timeout: 60_000,
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(dir, "home"), ...dependencyCacheEnv(held.dir) },
        });
        const seconds = (performance.now() - started) / 1_000;
        await held.release(true);
        return { seconds, status: held.status, requests: registries.reduce((n, r) => n + r.requests.length, 0) };
      };
      const median = (runs: { seconds: number }[]) => runs.map((r) => r.seconds).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
      const cold: Awaited<ReturnType<typeof npmCi>>[] = [];
      for (let i = 0; i < ROUNDS; i++) cold.push(await npmCi(`https://git.example/bench-${++repos}.git`));
      const warmUrl = `https://git.example/bench-${repos}.git`;
      const warm: Awaited<ReturnType<typeof npmCi>>[] = [];
      for (let i = 0; i < ROUNDS; i++) warm.push(await npmCi(warmUrl));
      const registry = delayMs ? `${delayMs} ms a request` : "loopback, at once";
      const row = (name: string, runs: Awaited<ReturnType<typeof npmCi>>[]) => [
        registry,
        name,
        `${median(runs).toFixed(2)} s`,
        `${((100 * median(runs)) / median(cold)).toFixed(0)} %`,
        runs.map((r) => r.requests).join(","),
        [...new Set(runs.map((r) => r.status))].join(","),
      ];
      rows.push(row(`cold cache (median of ${ROUNDS})`, cold), row(`warm cache (median of ${ROUNDS})`, warm));
    } finally {
      await Promise.all(registries.map((r) => r.close()));
    }
  }
  console.log(`\n${label}. npm ci of a project of ${PACKAGES} locked dependencies, with the runner's dependency cache cold and warm`);
  printTable([["registry", "npm ci", "time", "of cold", "registry requests", "dependency_cache"], ...rows]);
  rmSync(dir, { recursive: true, force: true });
}
