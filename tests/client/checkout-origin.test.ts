/**
 * Unit: the repository and branch `codeforge submit` takes without --repo/--ref: the origin of
 * the checkout it runs in (a path made a file:// URL, credentials left out) and its current
 * branch (none on a detached HEAD), read with real git in temporary repositories.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { checkoutDefaults, normalizeOriginUrl } from "../../client/cli/checkout-origin.js";

describe("normalizeOriginUrl", () => {
  it("keeps https, ssh and scp-like URLs as they are", () => {
    for (const url of ["https://github.com/acme/app.git", "ssh://git@github.com/acme/app.git", "git@github.com:acme/app.git", "file:///srv/git/app.git"])
      expect(normalizeOriginUrl(url, "/work")).toEqual({ url, credentialsRemoved: false });
  });

  it("makes a path a file:// URL, a relative one from the checkout's top directory", () => {
    expect(normalizeOriginUrl("/srv/git/app.git", "/home/me/app").url).toBe("file:///srv/git/app.git");
    expect(normalizeOriginUrl("../app.git", "/home/me/app").url).toBe("file:///home/me/app.git");
    expect(normalizeOriginUrl("/srv/my repo.git", "/").url).toBe("file:///srv/my%20repo.git");
  });

  it("leaves out credentials, and says so", () => {
    const found = normalizeOriginUrl("https://x-access-token:ghs_secretvalue@github.com/acme/app.git", "/");
    expect(found).toEqual({ url: "https://github.com/acme/app.git", credentialsRemoved: true });
    expect(normalizeOriginUrl("ssh://git:pw@host/app.git", "/")).toEqual({ url: "ssh://git@host/app.git", credentialsRemoved: true });
  });
});

describe("checkoutDefaults", () => {
  const root = mkdtempSync(join(tmpdir(), "codeforge-origin-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd, encoding: "utf8" });

  const upstream = join(root, "upstream.git");
  mkdirSync(upstream);
  git(upstream, "init", "--bare", "--initial-branch", "main");
  const seed = join(root, "seed");
  mkdirSync(seed);
  git(seed, "init", "--initial-branch", "main");
  git(seed, "commit", "--allow-empty", "-m", "first");
  git(seed, "push", upstream, "main");
  git(root, "clone", "--quiet", upstream, "clone");
  const clone = join(root, "clone");

  it("takes a clone's origin (as a file:// URL) and its branch, from a subdirectory too", async () => {
    git(clone, "checkout", "--quiet", "-b", "feature/x");
    mkdirSync(join(clone, "sub"));
    expect(await checkoutDefaults(join(clone, "sub"))).toEqual({ url: pathToFileURL(upstream).href, credentialsRemoved: false, ref: "feature/x" });
  });

  it("gives no branch on a detached HEAD", async () => {
    git(clone, "checkout", "--quiet", "--detach");
    expect((await checkoutDefaults(clone))?.ref).toBeNull();
  });

  it("is null outside a checkout, and in one without an origin", async () => {
    const outside = join(root, "outside");
    mkdirSync(outside);
    expect(await checkoutDefaults(outside)).toBeNull();
    expect(await checkoutDefaults(seed)).toBeNull();
  });
});
