// Unit: configuration from YAML and environment, its precedence, and its error messages.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { defaultRunnerId, loadConfig } from "../../runner/src/config.js";
import { configErrorOf } from "./config-error.js";

const SECRET = "s3cret-value-that-must-never-be-printed";
const files: Record<string, string> = {
  "/etc/codeforge/runner.yaml": [
    "edge_url: https://edge.example.com/",
    `runner_secret: ${SECRET}`,
    "pool: gpu",
    "labels: [linux, big]",
    "concurrency: 4",
    "kill_grace_ms: 1000",
    "health_port: 0",
  ].join("\n"),
};
const readFile = (file: string) => {
  const text = files[file];
  if (text === undefined) throw Object.assign(new Error("nope"), { code: "ENOENT" });
  return text;
};
const base = { readFile, hostname: "build-host.local", tmpdir: "/var/tmp" };

describe("loadConfig", () => {
  it("reads the YAML file named by --config and fills defaults", () => {
    const config = loadConfig({ ...base, argv: ["--config", "/etc/codeforge/runner.yaml"], env: {} });
    expect(config).toMatchObject({
      edge_url: "https://edge.example.com",
      runner_secret: SECRET,
      runner_id: "build-host.local",
      pool: "gpu",
      labels: ["linux", "big"],
      concurrency: 4,
      workspace_root: "/var/tmp/codeforge-workspaces",
      local_mode: false,
      kill_grace_ms: 1000,
      health_port: 0,
      lease_wait_ms: 25_000,
    });
  });

  it("lets environment variables override the file (and finds the file through CODEFORGE_RUNNER_CONFIG)", () => {
    const config = loadConfig({
      ...base,
      argv: [],
      env: {
        CODEFORGE_RUNNER_CONFIG: "/etc/codeforge/runner.yaml",
        CODEFORGE_POOL: "cpu",
        CODEFORGE_LABELS: "a, b,c",
        CODEFORGE_CONCURRENCY: "8",
        CODEFORGE_LOCAL_MODE: "true",
        CODEFORGE_RUNNER_ID: "runner-7",
        CODEFORGE_WORKSPACE_ROOT: "/srv/ws",
      },
    });
    expect(config).toMatchObject({ pool: "cpu", labels: ["a", "b", "c"], concurrency: 8, local_mode: true, runner_id: "runner-7", workspace_root: "/srv/ws" });
  });

  it("works from the environment alone", () => {
    const config = loadConfig({ ...base, argv: [], env: { CODEFORGE_EDGE_URL: "http://127.0.0.1:8787", CODEFORGE_RUNNER_SECRET: SECRET } });
    expect(config.edge_url).toBe("http://127.0.0.1:8787");
    expect(config.concurrency).toBe(2);
    expect(config.health_port).toBe(9464);
  });

  it("names every bad field with its variable, and never prints the secret", () => {
    const err = configErrorOf(() =>
      loadConfig({
        ...base,
        argv: ["--config", "/etc/codeforge/runner.yaml"],
        env: { CODEFORGE_CONCURRENCY: "lots", CODEFORGE_POOL: "Not A Slug", CODEFORGE_LOCAL_MODE: "perhaps" },
      }),
    );
    expect(err.message).toContain("concurrency (CODEFORGE_CONCURRENCY)");
    expect(err.message).toContain("pool (CODEFORGE_POOL)");
    expect(err.message).toContain("local_mode (CODEFORGE_LOCAL_MODE)");
    expect(err.message).not.toContain(SECRET);
  });

  it("requires the edge URL and the secret, and refuses a short secret without echoing it", () => {
    const missing = configErrorOf(() => loadConfig({ ...base, argv: [], env: {} }));
    expect(missing.message).toContain("edge_url (CODEFORGE_EDGE_URL)");
    expect(missing.message).toContain("runner_secret (CODEFORGE_RUNNER_SECRET)");
    const short = configErrorOf(() => loadConfig({ ...base, argv: [], env: { CODEFORGE_EDGE_URL: "https://e.example", CODEFORGE_RUNNER_SECRET: "tiny-pw" } }));
    expect(short.message).toMatch(/runner_secret .*at least 16/);
    expect(short.message).not.toContain("tiny-pw");
  });

  it("refuses plain http to a remote edge outside local mode", () => {
    const err = configErrorOf(() => loadConfig({ ...base, argv: [], env: { CODEFORGE_EDGE_URL: "http://edge.example.com", CODEFORGE_RUNNER_SECRET: SECRET } }));
    expect(err.message).toMatch(/edge_url .*https/);
    expect(() =>
      loadConfig({ ...base, argv: [], env: { CODEFORGE_EDGE_URL: "http://edge.example.com", CODEFORGE_RUNNER_SECRET: SECRET, CODEFORGE_LOCAL_MODE: "1" } }),
    ).not.toThrow();
  });

  it("reports unknown YAML keys, so a typo does not silently fall back to a default", () => {
    files["/typo.yaml"] = `edge_url: https://e.example\nrunner_secret: ${SECRET}\nconcurency: 9\n`;
    const err = configErrorOf(() => loadConfig({ ...base, argv: ["--config=/typo.yaml"], env: {} }));
    expect(err.message).toContain("concurency");
  });

  it("reports broken YAML by position without quoting the file", () => {
    files["/broken.yaml"] = `edge_url: https://e.example\nrunner_secret: "${SECRET}\n  : : [\n`;
    const err = configErrorOf(() => loadConfig({ ...base, argv: ["--config", "/broken.yaml"], env: {} }));
    expect(err.message).toMatch(/not valid YAML \(line \d+, column \d+\)/);
    expect(err.message).not.toContain(SECRET);
  });

  it("reports a missing config file by name", () => {
    const err = configErrorOf(() => loadConfig({ ...base, argv: ["--config", "/missing.yaml"], env: {} }));
    expect(err.message).toBe("Cannot read config file /missing.yaml: ENOENT");
  });
});

describe("commit identity", () => {
  it("defaults to CodeForge <codeforge@localhost>, is set from the file or the environment, and refuses what would break a commit header", () => {
    const load = (env: Record<string, string>) => loadConfig({ ...base, argv: ["--config", "/etc/codeforge/runner.yaml"], env });
    expect(load({})).toMatchObject({ git_author_name: "CodeForge", git_author_email: "codeforge@localhost" });
    expect(load({ CODEFORGE_GIT_AUTHOR_NAME: "Acme Bot", CODEFORGE_GIT_AUTHOR_EMAIL: "bot@acme.example" })).toMatchObject({
      git_author_name: "Acme Bot",
      git_author_email: "bot@acme.example",
    });
    const err = configErrorOf(() => load({ CODEFORGE_GIT_AUTHOR_NAME: "Evil <x@y>", CODEFORGE_GIT_AUTHOR_EMAIL: "not an email" }));
    expect(err.message).toContain("git_author_name (CODEFORGE_GIT_AUTHOR_NAME): must be a plain name");
    expect(err.message).toContain("git_author_email (CODEFORGE_GIT_AUTHOR_EMAIL): must look like name@host");
  });
});

describe("git_allowed_networks", () => {
  const load = (env: Record<string, string>) => loadConfig({ ...base, argv: ["--config", "/etc/codeforge/runner.yaml"], env });

  it("is empty by default, and reads CIDR ranges (a bare address is that address) from the environment", () => {
    expect(load({}).git_allowed_networks).toEqual([]);
    const networks = load({ CODEFORGE_GIT_ALLOWED_NETWORKS: "10.20.0.0/16, fd00:1::/64,192.168.7.9" }).git_allowed_networks;
    expect(networks.map((network) => network.text)).toEqual(["10.20.0.0/16", "fd00:1::/64", "192.168.7.9"]);
  });

  it("refuses a range with host bits or a bad prefix, naming it and the variable", () => {
    const err = configErrorOf(() => load({ CODEFORGE_GIT_ALLOWED_NETWORKS: "10.20.0.1/16,10.0.0.0/40" }));
    expect(err.message).toContain(
      'git_allowed_networks.0 (CODEFORGE_GIT_ALLOWED_NETWORKS): "10.20.0.1/16": 10.20.0.1/16 has bits set after the prefix; did you mean 10.20.0.0/16?',
    );
    expect(err.message).toContain('git_allowed_networks.1 (CODEFORGE_GIT_ALLOWED_NETWORKS): "10.0.0.0/40": prefix must be a whole number from 0 to 32');
  });
});

describe("runner.example.yaml", () => {
  it("is a valid configuration once a secret is supplied", () => {
    const example = fileURLToPath(new URL("../../runner/runner.example.yaml", import.meta.url));
    const config = loadConfig({
      argv: ["--config", example],
      env: { CODEFORGE_RUNNER_SECRET: SECRET },
      readFile: (file) => readFileSync(file, "utf8"),
    });
    expect(config).toMatchObject({ edge_url: "http://127.0.0.1:8787", local_mode: true, concurrency: 2, output_max_bytes: 32 * 1_048_576 });
  });
});

describe("defaultRunnerId", () => {
  it("turns any host name into a valid runner id", () => {
    expect(defaultRunnerId("ip-10-0-0-1.ec2.internal")).toBe("ip-10-0-0-1.ec2.internal");
    expect(defaultRunnerId("_weird host!")).toBe("weird-host-");
    expect(defaultRunnerId("")).toBe("runner");
  });

  it("reads per-CLI environment from the file and from CODEFORGE_CLI_ENV_<CLI>_<NAME>, the variables winning", () => {
    files["/etc/codeforge/clis.yaml"] = [
      "edge_url: https://edge.example.com",
      `runner_secret: ${SECRET}`,
      "clis: [claude, codex]",
      "cli_env:",
      "  claude: { ANTHROPIC_API_KEY: from-file, ANTHROPIC_BASE_URL: https://proxy.example }",
      "script_command: /opt/tools/fix",
      "script_args: [--write]",
      "stall_timeout_seconds: 600",
    ].join("\n");
    const config = loadConfig({
      ...base,
      argv: ["--config", "/etc/codeforge/clis.yaml"],
      env: { CODEFORGE_CLI_ENV_CLAUDE_ANTHROPIC_API_KEY: "from-env", CODEFORGE_CLI_ENV_CODEX_OPENAI_API_KEY: "sk-codex" },
    });
    expect(config.clis).toEqual(["claude", "codex"]);
    expect(config.cli_env).toEqual({
      claude: { ANTHROPIC_API_KEY: "from-env", ANTHROPIC_BASE_URL: "https://proxy.example" },
      codex: { OPENAI_API_KEY: "sk-codex" },
    });
    expect(config.script_command).toBe("/opt/tools/fix");
    expect(config.script_args).toEqual(["--write"]);
    expect(config.stall_timeout_seconds).toBe(600);
    // Off unless set.
    expect(loadConfig({ ...base, argv: ["--config", "/etc/codeforge/runner.yaml"], env: {} }).stall_timeout_seconds).toBeUndefined();
  });

  it("refuses unknown CLIs, reserved variable names in cli_env and a relative script_command, without echoing values", () => {
    const err = configErrorOf(() =>
      loadConfig({
        ...base,
        argv: ["--config", "/etc/codeforge/runner.yaml"],
        env: { CODEFORGE_CLIS: "claude,vim", CODEFORGE_CLI_ENV_CLAUDE_PATH: "/evil-path-value", CODEFORGE_SCRIPT_COMMAND: "tools/fix" },
      }),
    );
    expect(err.message).toContain("clis.1 (CODEFORGE_CLIS)");
    expect(err.message).toContain("cli_env.claude.PATH");
    expect(err.message).toContain("script_command (CODEFORGE_SCRIPT_COMMAND): must be an absolute path");
    expect(err.message).not.toContain("/evil-path-value");
    expect(configErrorOf(() => loadConfig({ ...base, argv: [], env: { CODEFORGE_CLI_ENV_CLAUDE: "x" } })).message).toContain("CODEFORGE_CLI_ENV_<CLI>_<NAME>");
  });
  it("takes model_prices from YAML or as JSON from CODEFORGE_MODEL_PRICES, and names a bad price", () => {
    files["/prices.yaml"] = [
      "edge_url: https://e.example",
      `runner_secret: ${SECRET}`,
      "model_prices:",
      "  claude-sonnet-4: {input: 2.5, output: 12, cache_read: 0.25}",
      "  house-model: {input: 0, output: 0}",
    ].join("\n");
    const fromFile = loadConfig({ ...base, argv: ["--config", "/prices.yaml"], env: {} });
    expect(fromFile.model_prices).toEqual({ "claude-sonnet-4": { input: 2.5, output: 12, cache_read: 0.25 }, "house-model": { input: 0, output: 0 } });
    expect(loadConfig({ ...base, argv: ["--config", "/etc/codeforge/runner.yaml"], env: {} }).model_prices).toEqual({});
    const fromEnv = loadConfig({
      ...base,
      argv: ["--config", "/etc/codeforge/runner.yaml"],
      env: { CODEFORGE_MODEL_PRICES: '{"gpt-5": {"input": 1, "output": 8, "cache_write": 1}}' },
    });
    expect(fromEnv.model_prices).toEqual({ "gpt-5": { input: 1, output: 8, cache_write: 1 } });

    const env = (value: string) =>
      configErrorOf(() => loadConfig({ ...base, argv: ["--config", "/etc/codeforge/runner.yaml"], env: { CODEFORGE_MODEL_PRICES: value } })).message;
    expect(env('{"gpt-5": {"input": -1, "output": 8}}')).toContain("model_prices.gpt-5.input (CODEFORGE_MODEL_PRICES): must be 0 or more");
    expect(env('{"gpt-5": {"input": "cheap", "output": 8}}')).toContain(
      "model_prices.gpt-5.input (CODEFORGE_MODEL_PRICES): must be a number of US dollars per million tokens",
    );
    expect(env('{"gpt-5": {"output": 8}}')).toContain("model_prices.gpt-5.input (CODEFORGE_MODEL_PRICES)");
    expect(env('{"gpt-5": {"input": 1, "output": 8, "cached": 1}}')).toMatch(/model_prices\.gpt-5 \(CODEFORGE_MODEL_PRICES\): .*cached/);
    expect(env("gpt-5=1")).toContain("model_prices (CODEFORGE_MODEL_PRICES): must be a JSON object");
  });
});

describe("the pool's default budget", () => {
  const env = { CODEFORGE_EDGE_URL: "http://127.0.0.1:8787", CODEFORGE_RUNNER_SECRET: SECRET };
  it("is off unless set, and read from the environment as numbers", () => {
    const none = loadConfig({ ...base, argv: [], env });
    expect([none.default_max_cost_usd, none.default_max_tokens, none.default_max_turns]).toEqual([undefined, undefined, undefined]);
    const set = loadConfig({
      ...base,
      argv: [],
      env: { ...env, CODEFORGE_DEFAULT_MAX_COST_USD: "2.5", CODEFORGE_DEFAULT_MAX_TOKENS: "1000000", CODEFORGE_DEFAULT_MAX_TURNS: "40" },
    });
    expect([set.default_max_cost_usd, set.default_max_tokens, set.default_max_turns]).toEqual([2.5, 1_000_000, 40]);
  });

  it("refuses a budget that is not a positive number, naming the variable", () => {
    const err = configErrorOf(() =>
      loadConfig({ ...base, argv: [], env: { ...env, CODEFORGE_DEFAULT_MAX_COST_USD: "-1", CODEFORGE_DEFAULT_MAX_TOKENS: "lots" } }),
    );
    expect(err.message).toContain("default_max_cost_usd (CODEFORGE_DEFAULT_MAX_COST_USD)");
    expect(err.message).toContain("default_max_tokens (CODEFORGE_DEFAULT_MAX_TOKENS)");
  });
});

describe("the pool's setup settings", () => {
  const env = { CODEFORGE_EDGE_URL: "http://127.0.0.1:8787", CODEFORGE_RUNNER_SECRET: SECRET };
  it("default to no commands, ten minutes, the common package registries and no repository script", () => {
    const config = loadConfig({ ...base, argv: [], env });
    expect(config).toMatchObject({ setup_commands: [], setup_timeout_seconds: 600, setup_repository_script: false });
    expect(config.setup_egress_allow).toContain("registry.npmjs.org");
    expect(config.setup_egress_allow).toContain("files.pythonhosted.org");
  });

  it("are read from the environment: commands as a JSON array, hosts as a comma list", () => {
    const config = loadConfig({
      ...base,
      argv: [],
      env: {
        ...env,
        CODEFORGE_SETUP_COMMANDS: '["npm ci", "make deps, then more"]',
        CODEFORGE_SETUP_TIMEOUT_SECONDS: "120",
        CODEFORGE_SETUP_EGRESS_ALLOW: "npm.internal.example.com, *.pypi.internal.example.com:8443",
        CODEFORGE_SETUP_REPOSITORY_SCRIPT: "true",
      },
    });
    expect(config).toMatchObject({
      setup_commands: ["npm ci", "make deps, then more"],
      setup_timeout_seconds: 120,
      setup_egress_allow: ["npm.internal.example.com", "*.pypi.internal.example.com:8443"],
      setup_repository_script: true,
    });
  });

  it("refuse commands that are not a JSON array of commands, a blank command and a bad host, naming the variables", () => {
    const err = configErrorOf(() =>
      loadConfig({ ...base, argv: [], env: { ...env, CODEFORGE_SETUP_COMMANDS: "npm ci", CODEFORGE_SETUP_EGRESS_ALLOW: "http://registry" } }),
    );
    expect(err.message).toContain('setup_commands (CODEFORGE_SETUP_COMMANDS): must be a JSON array of commands, e.g. ["npm ci"]');
    expect(err.message).toContain("setup_egress_allow.0 (CODEFORGE_SETUP_EGRESS_ALLOW)");
    const blank = configErrorOf(() => loadConfig({ ...base, argv: [], env: { ...env, CODEFORGE_SETUP_COMMANDS: '["  "]' } }));
    expect(blank.message).toContain("setup_commands.0 (CODEFORGE_SETUP_COMMANDS): a setup command must not be blank");
  });
});
