/** Which repository URLs and refs git may be pointed at: the edge and the runner both ask this. */
import { describe, expect, it } from "vitest";
import { checkRef, checkRepoUrl, isCommitSha } from "#api/repo-url.js";

const prod = { allowFile: false, allowSsh: true };
const local = { allowFile: true, allowSsh: true };

describe("checkRepoUrl", () => {
  it.each([
    ["https://github.com/acme/app.git", "https"],
    ["ssh://git@github.com/acme/app.git", "ssh"],
    ["git@github.com:acme/app.git", "ssh"],
  ])("accepts %s", (url, scheme) => {
    expect(checkRepoUrl(url, prod)).toEqual({ ok: true, scheme });
  });

  it.each([
    ["ext::sh -c touch% /tmp/pwned", /whitespace|remote helpers/],
    ["ext::sh", /remote helpers/],
    ["--upload-pack=touch /tmp/x", /must not start with '-'/],
    ["-u", /must not start with '-'/],
    ["file:///etc", /only .* local mode/],
    ["/etc", /not a valid URL/],
    ["http://169.254.169.254/latest", /scheme http: is not allowed/],
    ["git://example.com/repo.git", /scheme git: is not allowed/],
    ["https://user:token@github.com/acme/app.git", /must not contain credentials/],
    ["https://github.com/acme/app.git\nfoo", /whitespace/],
    ["", /empty/],
  ])("refuses %j", (url, reason) => {
    const check = checkRepoUrl(url, prod);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(reason);
  });

  it("accepts file:// only in local mode, and never with a host", () => {
    expect(checkRepoUrl("file:///srv/repo.git", local)).toEqual({ ok: true, scheme: "file" });
    expect(checkRepoUrl("file://evil.example/srv/repo.git", local).ok).toBe(false);
  });

  it("refuses ssh when it is not enabled", () => {
    expect(checkRepoUrl("git@github.com:acme/app.git", { allowFile: false, allowSsh: false }).ok).toBe(false);
  });
});

describe("checkRef", () => {
  it.each(["main", "release/1.2", "v1.0.0", "feature/x_y-z", "0123456789abcdef0123456789abcdef01234567"])("accepts %s", (ref) => {
    expect(checkRef(ref)).toBeNull();
  });

  it.each(["--force", "-b", "a..b", "a b", "a~1", "x^", "a:b", "refs/heads/.hidden", "x.lock", "x/", "/x", "a@{1}", "", "a".repeat(256)])(
    "refuses %j",
    (ref) => {
      expect(checkRef(ref)).not.toBeNull();
    },
  );

  it("knows a commit id", () => {
    expect(isCommitSha("0123456789abcdef0123456789abcdef01234567")).toBe(true);
    expect(isCommitSha("main")).toBe(false);
  });
});
