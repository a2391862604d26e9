/**
 * A local npm registry on the loopback: one package, one version, served the way the public
 * registry serves it (a packument with `dist-tags`, `dist.tarball`, `dist.integrity`, and the
 * tarball), so the real `npm` installs from it. The tarball is made with the system's `tar`.
 * Every request is recorded, so a test can tell whether the registry was reached at all.
 * @example
 * const registry = await startLocalNpmRegistry({ host: "registry.codeforge.test" });
 * // npm install --registry ${registry.url} left-pad
 * await registry.close();
 * @module
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

export interface LocalNpmRegistry {
  /** `http://<host>:<port>/`, as npm's `--registry` takes it. */
  url: string;
  port: number;
  /** The package it serves. */
  name: string;
  version: string;
  /** The tarball's address and `dist.integrity`, as a lockfile records them. */
  tarballUrl: string;
  integrity: string;
  /** Every request, `METHOD /path`. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves `name@version` whose `index.js` exports `exported`, under the name `host` (which the caller resolves to the loopback). */
export async function startLocalNpmRegistry(options: {
  host: string;
  name?: string;
  version?: string;
  exported?: string;
  /** Waits this long before answering each request, as a registry across a network would. */
  delayMs?: number;
}): Promise<LocalNpmRegistry> {
  const name = options.name ?? "left-pad";
  const version = options.version ?? "1.3.0";
  const dir = mkdtempSync(path.join(os.tmpdir(), "codeforge-npm-registry-"));
  mkdirSync(path.join(dir, "package"));
  writeFileSync(path.join(dir, "package", "package.json"), JSON.stringify({ name, version, main: "index.js" }));
  writeFileSync(path.join(dir, "package", "index.js"), `module.exports = ${JSON.stringify(options.exported ?? `${name} ${version}`)};\n`);
  execFileSync("tar", ["-czf", "package.tgz", "package"], { cwd: dir });
  const tarball = readFileSync(path.join(dir, "package.tgz"));
  rmSync(dir, { recursive: true, force: true });
  const integrity = `sha512-${createHash("sha512").update(tarball).digest("base64")}`;
  const shasum = createHash("sha1").update(tarball).digest("hex");

  const requests: string[] = [];
  let base = "";
  const server = http.createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    if (req.url === `/${name}`) {
      const packument = {
        name,
        "dist-tags": { latest: version },
        versions: { [version]: { name, version, main: "index.js", dist: { tarball: `${base}${name}/-/${name}-${version}.tgz`, integrity, shasum } } },
      };
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(packument));
    }
    if (req.url === `/${name}/-/${name}-${version}.tgz`) return void res.writeHead(200, { "content-type": "application/octet-stream" }).end(tarball);
    res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://${options.host}:${port}/`;
  return {
    url: base,
    port,
    name,
    version,
    tarballUrl: `${base}${name}/-/${name}-${version}.tgz`,
    integrity,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A small project depending on the registry's package, with its `package-lock.json` (for `npm ci`). */
export function npmProjectFiles(registry: LocalNpmRegistry, projectName = "app"): Record<string, string> {
  const dependencies = { [registry.name]: registry.version };
  const lock = {
    name: projectName,
    version: "1.0.0",
    lockfileVersion: 3,
    requires: true,
    packages: {
      "": { name: projectName, version: "1.0.0", dependencies },
      [`node_modules/${registry.name}`]: { version: registry.version, resolved: registry.tarballUrl, integrity: registry.integrity },
    },
  };
  return {
    "package.json": `${JSON.stringify({ name: projectName, version: "1.0.0", private: true, dependencies }, null, 2)}\n`,
    "package-lock.json": `${JSON.stringify(lock, null, 2)}\n`,
  };
}
