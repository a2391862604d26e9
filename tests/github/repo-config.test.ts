// Unit: `.codeforge.yml` and `GITHUB_DEFAULTS` parsing, merging and who may trigger.
import { describe, expect, it } from "vitest";
import { parseAppDefaults, parseRepoConfig, REPO_CONFIG_MAX_BYTES, resolveRepoConfig, roleAllows, senderAllowed } from "../../edge/src/github/repo-config.js";

describe("parseRepoConfig", () => {
  it("reads every key", () => {
    const text = [
      "cli: codex",
      "model: gpt-5-codex",
      "max_cost_usd: 2.5",
      "max_turns: 40",
      "timeout_seconds: 900",
      "pool: gpu",
      "autonomy: edits",
      "trigger: '@forge'",
      "label: agent",
      "min_permission: maintain",
      "allowed_users: [octocat, Hubot]",
    ].join("\n");
    expect(parseRepoConfig(text)).toEqual({
      ok: true,
      config: {
        cli: "codex",
        model: "gpt-5-codex",
        max_cost_usd: 2.5,
        max_turns: 40,
        timeout_seconds: 900,
        pool: "gpu",
        autonomy: "edits",
        trigger: "@forge",
        label: "agent",
        min_permission: "maintain",
        allowed_users: ["octocat", "Hubot"],
      },
    });
  });

  it("takes an empty file or one of comments as no settings", () => {
    expect(parseRepoConfig("")).toEqual({ ok: true, config: {} });
    expect(parseRepoConfig("# nothing yet\n")).toEqual({ ok: true, config: {} });
  });

  it("names unknown keys and out-of-bounds values", () => {
    const unknown = parseRepoConfig("cli: claude\nbudget: 5\n");
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.problem).toMatch(/unknown key "budget"/);
    const tooDear = parseRepoConfig("max_cost_usd: 1000000\n");
    if (tooDear.ok) throw new Error("accepted");
    expect(tooDear.problem).toContain("max_cost_usd");
    const shortTimeout = parseRepoConfig("timeout_seconds: 5\n");
    if (shortTimeout.ok) throw new Error("accepted");
    expect(shortTimeout.problem).toContain("timeout_seconds");
    for (const [text, key] of [
      ["cli: vim", "cli"],
      ["min_permission: triage", "min_permission"],
      ["trigger: '@code forge'", "trigger"],
      [`trigger: '@${"x".repeat(40)}'`, "trigger"],
      ["allowed_users: [not a login]", "allowed_users.0"],
      ["pool: GPU!", "pool"],
    ] as const) {
      const result = parseRepoConfig(text);
      expect(result.ok, text).toBe(false);
      if (!result.ok) expect(result.problem).toContain(`${key}:`);
    }
  });

  it("refuses what is not a mapping, bad YAML and oversized files", () => {
    expect(parseRepoConfig("- cli: claude\n")).toMatchObject({ ok: false, problem: expect.stringContaining("mapping") });
    expect(parseRepoConfig("cli: [claude\n")).toMatchObject({ ok: false, problem: expect.stringContaining("not valid YAML") });
    expect(parseRepoConfig("cli: claude\ncli: codex\n")).toMatchObject({ ok: false, problem: expect.stringContaining("unique") });
    const big = `# ${"x".repeat(REPO_CONFIG_MAX_BYTES)}\ncli: claude\n`;
    expect(parseRepoConfig(big)).toMatchObject({ ok: false, problem: expect.stringContaining(String(REPO_CONFIG_MAX_BYTES)) });
  });

  it("refuses an alias bomb instead of expanding it", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 20; i++)
      lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`);
    expect(parseRepoConfig(lines.join("\n"))).toMatchObject({ ok: false, problem: expect.stringContaining("not valid YAML") });
  });
});

describe("parseAppDefaults", () => {
  it("reads the same keys as JSON; unset is none", () => {
    expect(parseAppDefaults(undefined)).toEqual({ ok: true, config: {} });
    expect(parseAppDefaults('{"cli":"aider","max_cost_usd":1}')).toEqual({ ok: true, config: { cli: "aider", max_cost_usd: 1 } });
    expect(parseAppDefaults("{cli: aider}")).toMatchObject({ ok: false, problem: expect.stringContaining("GITHUB_DEFAULTS") });
    expect(parseAppDefaults('{"clis":"aider"}')).toMatchObject({ ok: false, problem: expect.stringContaining('"clis"') });
  });
});

describe("resolveRepoConfig", () => {
  it("lays the file over the App's defaults over the built-in ones", () => {
    expect(resolveRepoConfig({}, null)).toMatchObject({
      cli: "claude",
      trigger: "@codeforge",
      label: "codeforge",
      min_permission: "write",
      model: null,
      allowed_users: null,
      timeout_seconds: 1_800,
      pool: "default",
      autonomy: "full",
    });
    const resolved = resolveRepoConfig({ cli: "aider", max_cost_usd: 3, label: "bot" }, { cli: "codex", max_turns: 10 });
    expect(resolved).toMatchObject({ cli: "codex", max_cost_usd: 3, max_turns: 10, label: "bot", trigger: "@codeforge" });
  });
});

describe("who may trigger", () => {
  it("ranks roles", () => {
    expect(roleAllows("write", "write")).toBe(true);
    expect(roleAllows("admin", "maintain")).toBe(true);
    expect(roleAllows("triage", "write")).toBe(false);
    expect(roleAllows("write", "maintain")).toBe(false);
    expect(roleAllows("none", "write")).toBe(false);
  });

  it("needs the role and, when there is a list, a place on it", () => {
    const open = resolveRepoConfig({}, null);
    expect(senderAllowed(open, "anyone", "write")).toBe(true);
    expect(senderAllowed(open, "anyone", "read")).toBe(false);
    const listed = resolveRepoConfig({}, { allowed_users: ["Octocat"] });
    expect(senderAllowed(listed, "octocat", "admin")).toBe(true);
    expect(senderAllowed(listed, "octocat", "read")).toBe(false);
    expect(senderAllowed(listed, "hubot", "admin")).toBe(false);
  });
});
