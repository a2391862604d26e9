// Integration: what git is allowed to do with a task's repository. Real git behind a recording
// stand-in on PATH (tests/runner/fixtures/git-recorder/git), so each test can see every git
// process the runner started — or that it started none.
import { execa } from "execa";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCidr } from "#api/index.js";
import { CloneError, cloneRepository } from "../../runner/src/git/git-clone.js";
import { gitCredentialEnv, TOKEN_ENV_NAME } from "../../runner/src/git/git-credentials.js";
import { checkRepoHost, pinnedResolve, type HostLookup } from "../../runner/src/git/repo-host-check.js";
import { createGitFixture, git, type GitFixture } from "./harness/git-fixture.js";

const RECORDER_DIR = fileURLToPath(new URL("./fixtures/git-recorder", import.meta.url));
const TOKEN = "ghs_TaskRepoToken_0123456789abcdef";

let fixture: GitFixture;
let scratch: string;
let n = 0;
beforeAll(() => {
  fixture = createGitFixture();
  scratch = mkdtempSync(path.join(os.tmpdir(), "codeforge-gitsec-"));
});
afterAll(() => {
  fixture.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** A fresh clone target whose HOME collects the recorder's log. */
function target() {
  const base = path.join(scratch, `t${++n}`);
  const homeDir = path.join(base, "home");
  const credentialsDir = path.join(base, "runner");
  mkdirSync(homeDir, { recursive: true });
  mkdirSync(credentialsDir);
  return {
    dir: path.join(base, "repo"),
    homeDir,
    credentialsDir,
    pathEnv: `${RECORDER_DIR}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    calls(): { argv: string[]; env: Record<string, string> }[] {
      const log = path.join(homeDir, "git-calls.jsonl");
      if (!existsSync(log)) return [];
      return readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
    },
  };
}

/** A resolver that answers from a table and counts its calls. */
function fakeLookup(table: Record<string, string[]>): HostLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = (async (host: string) => {
    calls.push(host);
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    return addresses;
  }) as HostLookup & { calls: string[] };
  lookup.calls = calls;
  return lookup;
}

describe("repository refusals before any git process starts", () => {
  const lookup = fakeLookup({
    "internal.example": ["10.1.2.3"],
    "rebind.example": ["93.184.216.34", "127.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "cgnat.example": ["100.100.1.1"],
    "v6local.example": ["fd12::1"],
  });
  const cases: [string, string, string | null, boolean, RegExp][] = [
    ["the ext:: transport", "ext::sh -c touch% /tmp/pwned", null, true, /not allowed|whitespace/],
    ["--upload-pack as the URL", "--upload-pack=touch /tmp/pwned", null, true, /must not start with '-'/],
    ["-u as the URL", "-utouch /tmp/pwned", null, true, /must not start with '-'/],
    ["file:///etc outside local mode", "file:///etc", null, false, /local mode/],
    ["a bare path", "/etc", null, true, /not a valid URL/],
    ["the metadata endpoint over http", "http://169.254.169.254/latest/meta-data", null, true, /not allowed/],
    ["the metadata endpoint over https", "https://169.254.169.254/latest/meta-data", null, true, /link-local/],
    ["localhost (the system resolver says loopback)", "https://localhost/o/r.git", null, true, /loopback/],
    ["a name resolving to RFC 1918", "https://internal.example/o/r.git", null, true, /10\.1\.2\.3.*RFC 1918/],
    ["a name with one loopback address among public ones", "https://rebind.example/o/r.git", null, true, /127\.0\.0\.1/],
    ["a name resolving to the metadata address", "https://metadata.example/o/r.git", null, true, /169\.254\.169\.254/],
    ["a name resolving to CGNAT", "https://cgnat.example/o/r.git", null, true, /carrier-grade NAT/],
    ["a name resolving to IPv6 unique-local", "https://v6local.example/o/r.git", null, true, /unique-local/],
    // Written without "::", which the URL policy refuses on its own.
    ["IPv6 loopback", "https://[0:0:0:0:0:0:0:1]/o/r.git", null, true, /loopback/],
    ["IPv4-mapped loopback", "https://[0:0:0:0:0:ffff:7f00:1]/o/r.git", null, true, /loopback/],
    ["a decimal IP for loopback", "https://2130706433/o/r.git", null, true, /loopback/],
    ["a name that does not resolve", "https://nowhere.example/o/r.git", null, true, /could not be resolved/],
    ["a branch named --force", "https://github.com/o/r.git", "--force", true, /ref must not start with '-'/],
    ["a branch named -u", "https://github.com/o/r.git", "-uevil", true, /ref must not start with '-'/],
  ];
  for (const [name, url, ref, allowFile, reason] of cases) {
    it(`refuses ${name}`, async () => {
      const t = target();
      const err = await cloneRepository({
        url,
        ref,
        ...t,
        accessToken: TOKEN,
        allowFile,
        allowSsh: false,
        lookup: url.includes("localhost") ? undefined : lookup,
      }).catch((e) => e);
      expect(err).toBeInstanceOf(CloneError);
      expect(err.message).toMatch(reason);
      expect(err.message).not.toContain(TOKEN);
      expect(t.calls()).toEqual([]);
      expect(existsSync(t.dir)).toBe(false);
      // The askpass helper is only written once every check has passed.
      expect(existsSync(path.join(t.credentialsDir, "git-askpass.sh"))).toBe(false);
    });
  }

  it("lets a host on a network the operator allows through, and still refuses every other non-public address", async () => {
    const lookup = fakeLookup({
      "git.corp.example": ["10.20.1.5"],
      "mixed.corp.example": ["10.20.1.5", "169.254.169.254"],
      "other.corp.example": ["10.30.0.1"],
    });
    const allowedNetworks = [parseCidr("10.20.0.0/16"), parseCidr("fd00:1::/64")].map((parsed) => (parsed.ok ? parsed.range : expect.unreachable()));
    const check = await checkRepoHost("https://git.corp.example/o/r.git", { lookup, allowedNetworks });
    expect(check).toMatchObject({ ok: true, host: "git.corp.example", addresses: ["10.20.1.5"] });
    expect(pinnedResolve(check)).toEqual(["git.corp.example:443:10.20.1.5"]);
    expect(await checkRepoHost("https://[fd00:1::9]/o/r.git", { lookup, allowedNetworks })).toMatchObject({ ok: true });
    expect(await checkRepoHost("https://mixed.corp.example/o/r.git", { lookup, allowedNetworks })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/169\.254\.169\.254.*link-local/),
    });
    expect(await checkRepoHost("https://other.corp.example/o/r.git", { lookup, allowedNetworks })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/10\.30\.0\.1.*RFC 1918/),
    });
    // Without the setting, the same private host is refused.
    expect(await checkRepoHost("https://git.corp.example/o/r.git", { lookup })).toMatchObject({ ok: false });
  });

  it("does not look file:// hosts up in local mode, and pins https connections to the checked addresses", async () => {
    const local = fakeLookup({});
    expect(await checkRepoHost(fixture.url, { lookup: local })).toEqual({ ok: true, host: null });
    expect(local.calls).toEqual([]);
    const pub = fakeLookup({ "git.example": ["93.184.216.34", "2606:2800:220:1::1"] });
    const check = await checkRepoHost("https://git.example:8443/o/r.git", { lookup: pub });
    expect(pinnedResolve(check)).toEqual(["git.example:8443:93.184.216.34,[2606:2800:220:1::1]"]);
  });
});

describe("clone hardening", () => {
  it("keeps the token out of every git argv and out of .git/config; git gets it only through askpass", async () => {
    const t = target();
    const { baseSha } = await cloneRepository({ url: fixture.url, ref: "main", ...t, accessToken: TOKEN, allowFile: true, allowSsh: false });
    expect(baseSha).toBe(fixture.mainSha);
    const calls = t.calls();
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.argv.join(" ")).not.toContain(TOKEN);
      expect(call.argv).toContain("http.followRedirects=false");
      expect(call.argv).toContain("core.symlinks=false");
      expect(call.argv).toContain("protocol.allow=never");
      expect(call.env.GIT_ALLOW_PROTOCOL).toBe("https:file");
      expect(call.env.GIT_ASKPASS).toBe(path.join(t.credentialsDir, "git-askpass.sh"));
      expect(call.env[TOKEN_ENV_NAME]).toBe(TOKEN);
      // Nothing else carries it.
      const others = Object.entries(call.env).filter(([name]) => name !== TOKEN_ENV_NAME);
      expect(JSON.stringify(others)).not.toContain(TOKEN);
    }
    const clone = calls.find((c) => c.argv.includes("clone"))!;
    expect(clone.argv).toContain("--no-recurse-submodules");
    expect(clone.argv.slice(-3)).toEqual(["--", fixture.url, t.dir]);
    const config = readFileSync(path.join(t.dir, ".git", "config"), "utf8");
    expect(config).not.toContain(TOKEN);
    expect(config).toMatch(/symlinks = false/);
    expect(readFileSync(path.join(t.credentialsDir, "git-askpass.sh"), "utf8")).not.toContain(TOKEN);
    expect(execFileSync("find", [t.dir, "-type", "f"], { encoding: "utf8" })).not.toContain("git-askpass");
  });

  it("checks out a symlink that points outside the workspace as a plain file", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "codeforge-symlink-"));
    try {
      const bare = path.join(dir, "origin.git");
      const work = path.join(dir, "work");
      git(dir, "init", "--quiet", "--bare", "--initial-branch=main", bare);
      git(dir, "init", "--quiet", "--initial-branch=main", work);
      writeFileSync(path.join(work, "README.md"), "hi\n");
      symlinkSync("/etc/passwd", path.join(work, "passwd-link"));
      symlinkSync("../../../../home", path.join(work, "escape"));
      git(work, "add", "-A");
      git(work, "commit", "--quiet", "-m", "links");
      git(work, "push", "--quiet", bare, "main");

      const t = target();
      await cloneRepository({ url: pathToFileURL(bare).href, ref: null, ...t, allowFile: true, allowSsh: false });
      for (const [name, linkTarget] of [
        ["passwd-link", "/etc/passwd"],
        ["escape", "../../../../home"],
      ] as const) {
        const stat = lstatSync(path.join(t.dir, name));
        expect(stat.isSymbolicLink()).toBe(false);
        expect(readFileSync(path.join(t.dir, name), "utf8")).toBe(linkTarget);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a token reaches an HTTP server through the askpass helper as Basic credentials", async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (!req.headers.authorization) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="git"' }).end();
        return;
      }
      res.writeHead(403).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const t = target();
      const env = await gitCredentialEnv({ dir: t.credentialsDir, token: TOKEN });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/o/r.git`;
      // Asynchronously: the server answering git lives in this process.
      const result = await execa("git", ["-c", "protocol.http.allow=always", "ls-remote", "--", url], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: t.homeDir, GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_NOSYSTEM: "1", ...env },
        extendEnv: false,
        reject: false,
        timeout: 10_000,
      });
      expect(result.exitCode).not.toBe(0);
      const stderr = result.stderr;
      const expected = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`;
      expect(seen).toContain(expected);
      // git's own error output does not echo the credentials.
      expect(stderr).not.toContain(TOKEN);
    } finally {
      server.close();
    }
  });
});
