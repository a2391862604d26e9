// What `npm start` takes from its environment and keeps between starts (scripts/edge-settings.ts,
// scripts/start-settings.ts, scripts/runner-settings.ts, scripts/local-stack.ts's portInUse).
// The whole of `npm start`, run for real, is tests/e2e/npm-start.test.ts.
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EDGE_SETTING_VARIABLES } from "../../edge/src/env.js";
import { callerEdgeSettings, edgeSettingNames, wranglerVarNames } from "../../scripts/edge-settings.js";
import { PROJECT_ROOT, portInUse } from "../../scripts/local-stack.js";
import { callerRunnerSettings, LOCAL_STACK_OWN } from "../../scripts/runner-settings.js";
import { githubPrivateKeyFromFile, keptSecret, LOCAL_EDGE_DEFAULTS, localEdgeVars } from "../../scripts/start-settings.js";

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), "utf8");

/** The lines of the README from `heading` to the next heading. */
function readmeSection(heading: string): string {
  const readme = read("README.md");
  const start = readme.indexOf(`\n${heading}\n`);
  expect(start, `README has no "${heading}"`).toBeGreaterThan(0);
  const end = readme.indexOf("\n#", start + heading.length + 2);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** The setting names in the first column of a README table. */
function tableNames(section: string): string[] {
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((line) => [...line.split("|")[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));
}

describe("npm start's edge settings", () => {
  const names = edgeSettingNames(PROJECT_ROOT);

  it("reads the names of wrangler.toml's [vars] and nothing from its other tables", () => {
    const toml = read("wrangler.toml");
    const vars = wranglerVarNames(toml);
    expect(vars).toContain("RATE_LIMIT_TASKS_PER_MINUTE");
    expect(vars).toContain("CODEFORGE_LOCAL_MODE");
    expect(vars).not.toContain("name"); // the Worker's name, before [vars]
    expect(vars).not.toContain("tag"); // [[migrations]]
    expect(wranglerVarNames('[vars]\nA = "1"\n# B = "2"\n[env.staging.vars]\nC = "3"\n[vars]\n  D="4"')).toEqual(["A", "D"]);
  });

  it("covers every edge setting the README documents", () => {
    const documented = tableNames(readmeSection("### Edge (Worker)"));
    expect(documented.length).toBeGreaterThan(30);
    const missing = documented.filter((name) => !names.has(name) && !name.startsWith("OTEL_"));
    expect(missing, "documented edge settings npm start would not pass on (add them to wrangler.toml's [vars] or scripts/edge-settings.ts)").toEqual([]);
  });

  it("covers every setting the edge reads (its settings slices, edge/src/settings/)", () => {
    expect(EDGE_SETTING_VARIABLES.length).toBeGreaterThan(30);
    expect(EDGE_SETTING_VARIABLES).toContain("TASK_SECRETS_KEY");
    expect(
      EDGE_SETTING_VARIABLES.filter((name) => !names.has(name)),
      "edge settings npm start would not pass on",
    ).toEqual([]);
  });

  it("finds in wrangler.toml's [vars] only settings the edge reads", () => {
    const unread = wranglerVarNames(read("wrangler.toml")).filter((name) => !EDGE_SETTING_VARIABLES.includes(name));
    expect(unread, "wrangler.toml sets variables no settings slice reads").toEqual([]);
  });

  it("passes the caller's edge settings and OTEL_* over its local defaults, and nothing else", () => {
    const caller = {
      RATE_LIMIT_TASKS_PER_MINUTE: "7",
      WEBHOOKS_ALLOW_LOCAL: "false",
      METRICS_TOKEN: "a-metrics-token-of-length",
      OTEL_SERVICE_NAME: "mine",
      HOME: "/home/me",
      CODEFORGE_CLIS: "demo",
    };
    expect(callerEdgeSettings(caller, names)).toEqual({
      RATE_LIMIT_TASKS_PER_MINUTE: "7",
      WEBHOOKS_ALLOW_LOCAL: "false",
      METRICS_TOKEN: "a-metrics-token-of-length",
      OTEL_SERVICE_NAME: "mine",
    });
    const vars = localEdgeVars(caller, names, { adminKey: "cf_admin_own", runnerSecret: "cf_runner_own" });
    expect(vars.RATE_LIMIT_TASKS_PER_MINUTE).toBe("7");
    expect(vars.WEBHOOKS_ALLOW_LOCAL).toBe("false");
    expect(vars.HOME).toBeUndefined();
    expect(vars.CODEFORGE_CLIS).toBeUndefined();
    expect(localEdgeVars({}, names, { adminKey: "a", runnerSecret: "r" })).toMatchObject(LOCAL_EDGE_DEFAULTS);
    expect(LOCAL_EDGE_DEFAULTS.RATE_LIMIT_TASKS_PER_MINUTE).toBe("120");
    // wrangler dev answers clients directly: no header is trustworthy, unless the caller says so.
    expect(localEdgeVars({}, names, { adminKey: "a", runnerSecret: "r" }).CLIENT_ADDRESS_HEADER).toBe("none");
    expect(localEdgeVars({ CLIENT_ADDRESS_HEADER: "X-Forwarded-For" }, names, { adminKey: "a", runnerSecret: "r" }).CLIENT_ADDRESS_HEADER).toBe(
      "X-Forwarded-For",
    );
  });

  it("keeps local mode, its admin key and its runner's secret, beside runner secrets the caller gives", () => {
    const vars = localEdgeVars({ CODEFORGE_LOCAL_MODE: "false", RUNNER_SECRETS: "cf_runner_elsewhere_1, cf_runner_own" }, names, {
      adminKey: "cf_admin_own",
      runnerSecret: "cf_runner_own",
    });
    expect(vars.CODEFORGE_LOCAL_MODE).toBe("true");
    expect(vars.CODEFORGE_ADMIN_KEY).toBe("cf_admin_own");
    expect(vars.RUNNER_SECRETS).toBe("cf_runner_own,cf_runner_elsewhere_1");
  });
});

describe("npm start's GitHub App settings", () => {
  const names = edgeSettingNames(PROJECT_ROOT);
  const pem = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("passes every GitHub setting on to the edge, a multi-line private key whole", () => {
    const github = {
      GITHUB_APP_ID: "123456",
      GITHUB_APP_PRIVATE_KEY: pem,
      GITHUB_WEBHOOK_SECRET: "whsec",
      GITHUB_API_URL: "http://127.0.0.1:9999",
      GITHUB_WEBHOOK_ALLOWED_SOURCES: "github",
      GITHUB_DEFAULTS: '{"cli":"claude"}',
      CODEFORGE_PUBLIC_URL: "https://codeforge.example.com",
    };
    expect(localEdgeVars({ ...github, GITHUB_TOKEN: "not an edge setting" }, names, { adminKey: "a", runnerSecret: "r" })).toMatchObject(github);
    expect(localEdgeVars({ GITHUB_TOKEN: "x" }, names, { adminKey: "a", runnerSecret: "r" }).GITHUB_TOKEN).toBeUndefined();
  });

  it("reads the private key from GITHUB_APP_PRIVATE_KEY_FILE, Windows line ends made plain", () => {
    dir = mkdtempSync(join(tmpdir(), "codeforge-pem-"));
    const file = join(dir, "app.private-key.pem");
    writeFileSync(file, pem.replaceAll("\n", "\r\n"));
    expect(githubPrivateKeyFromFile({ GITHUB_APP_PRIVATE_KEY_FILE: file })).toEqual({ GITHUB_APP_PRIVATE_KEY: pem });
    expect(githubPrivateKeyFromFile({})).toEqual({});
  });

  it("refuses a key file it cannot read, one with no key, and a key given twice, naming the setting", () => {
    dir = mkdtempSync(join(tmpdir(), "codeforge-pem-"));
    const file = join(dir, "app.pem");
    expect(() => githubPrivateKeyFromFile({ GITHUB_APP_PRIVATE_KEY_FILE: file })).toThrow(/^GITHUB_APP_PRIVATE_KEY_FILE cannot be read: .*ENOENT/);
    writeFileSync(file, "ghp_not_a_key\n");
    expect(() => githubPrivateKeyFromFile({ GITHUB_APP_PRIVATE_KEY_FILE: file })).toThrow(/holds no PEM private key/);
    writeFileSync(file, pem);
    expect(() => githubPrivateKeyFromFile({ GITHUB_APP_PRIVATE_KEY_FILE: file, GITHUB_APP_PRIVATE_KEY: pem })).toThrow("not both");
  });
});

describe("npm start's runner settings cover the README", () => {
  it("passes on every documented runner variable but the few the local stack sets", () => {
    const documented = [...new Set([...readmeSection("### Runner").matchAll(/\bCODEFORGE_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0]))];
    expect(documented.length).toBeGreaterThan(30);
    const dropped = documented.filter((name) => !LOCAL_STACK_OWN.has(name) && callerRunnerSettings({ [name]: "x" })[name] !== "x");
    expect(dropped).toEqual([]);
    expect(callerRunnerSettings({ CODEFORGE_RUNNER_CONFIG: "runner.yaml", CODEFORGE_HEALTH_PORT: "9464" })).toEqual({
      CODEFORGE_RUNNER_CONFIG: "runner.yaml",
      CODEFORGE_HEALTH_PORT: "9464",
    });
  });
});

describe("npm start's kept keys", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("makes a key once, private to this user, and gives the same one on the next start", () => {
    dir = mkdtempSync(join(tmpdir(), "codeforge-keys-"));
    const first = keptSecret({}, "CODEFORGE_ADMIN_KEY", dir, "admin-key", "cf_admin");
    expect(first.source).toBe("new");
    expect(first.value).toMatch(/^cf_admin_\w{20,}$/);
    expect(first.file).toBe(join(dir, "admin-key"));
    expect(readFileSync(first.file, "utf8").trim()).toBe(first.value);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    const second = keptSecret({}, "CODEFORGE_ADMIN_KEY", dir, "admin-key", "cf_admin");
    expect(second).toEqual({ ...first, source: "kept" });
  });

  it("takes the environment's key over the kept one, and leaves the file alone", () => {
    dir = mkdtempSync(join(tmpdir(), "codeforge-keys-"));
    const kept = keptSecret({}, "CODEFORGE_ADMIN_KEY", dir, "admin-key", "cf_admin");
    const given = keptSecret({ CODEFORGE_ADMIN_KEY: "cf_admin_from_the_environment" }, "CODEFORGE_ADMIN_KEY", dir, "admin-key", "cf_admin");
    expect(given).toMatchObject({ value: "cf_admin_from_the_environment", source: "environment" });
    expect(readFileSync(kept.file, "utf8").trim()).toBe(kept.value);
  });

  it("makes a kept file others can read private again, and replaces one that holds no key", () => {
    dir = mkdtempSync(join(tmpdir(), "codeforge-keys-"));
    const file = join(dir, "runner-secret");
    writeFileSync(file, "cf_runner_0123456789abcdef\n");
    chmodSync(file, 0o644);
    expect(keptSecret({}, "CODEFORGE_RUNNER_SECRET", dir, "runner-secret", "cf_runner")).toMatchObject({ value: "cf_runner_0123456789abcdef", source: "kept" });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, "short\n");
    const replaced = keptSecret({}, "CODEFORGE_RUNNER_SECRET", dir, "runner-secret", "cf_runner");
    expect(replaced.source).toBe("new");
    expect(replaced.value).not.toBe("short");
  });
});

describe("portInUse", () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server?.listening) await new Promise((r) => server!.close(r));
  });

  async function listen(host: string): Promise<number> {
    server = createServer();
    await new Promise<void>((r) => server!.listen(0, host, r));
    return (server.address() as { port: number }).port;
  }

  it("says a port on the loopback interface is taken, and free again once let go", async () => {
    const port = await listen("127.0.0.1");
    expect(await portInUse(port)).toBe(true);
    await new Promise((r) => server!.close(r));
    expect(await portInUse(port)).toBe(false);
    expect(await portInUse(port)).toBe(false); // checking does not hold it
  });

  it("says a port taken on every interface is taken", async () => {
    expect(await portInUse(await listen("0.0.0.0"))).toBe(true);
  });
});
