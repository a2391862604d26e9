// Unit: the runner's modes for autoscalers on its command line and in its environment:
// run-once (`--once`, CODEFORGE_ONCE) and the idle exit (`--idle-exit-seconds`, CODEFORGE_IDLE_EXIT_SECONDS).
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../runner/src/config.js";
import { configErrorOf } from "./config-error.js";

const SECRET = "s3cret-value-that-must-never-be-printed";
const env = { CODEFORGE_EDGE_URL: "https://edge.example.com", CODEFORGE_RUNNER_SECRET: SECRET };
const files: Record<string, string> = { "/runner.yaml": "once: false\nidle_exit_seconds: 600\n" };
const load = (argv: string[], extra: Record<string, string> = {}) =>
  loadConfig({ argv, env: { ...env, ...extra }, readFile: (f) => files[f] ?? "", hostname: "h", tmpdir: "/var/tmp" });

describe("run-once and idle exit settings", () => {
  it("are off by default: a runner leases for ever", () => {
    const config = load([]);
    expect(config.once).toBe(false);
    expect(config.idle_exit_seconds).toBeUndefined();
  });

  it("come from flags, which win over the environment and the file", () => {
    expect(load(["--once"]).once).toBe(true);
    expect(load(["--idle-exit-seconds", "30"]).idle_exit_seconds).toBe(30);
    expect(load(["--idle-exit-seconds=45"]).idle_exit_seconds).toBe(45);
    expect(load(["--config", "/runner.yaml", "--once", "--idle-exit-seconds=5"], { CODEFORGE_IDLE_EXIT_SECONDS: "9" })).toMatchObject({
      once: true,
      idle_exit_seconds: 5,
    });
  });

  it("come from the environment over the file", () => {
    expect(load([], { CODEFORGE_ONCE: "1" }).once).toBe(true);
    expect(load([], { CODEFORGE_ONCE: "false" }).once).toBe(false);
    expect(load(["--config", "/runner.yaml"]).idle_exit_seconds).toBe(600);
    expect(load(["--config", "/runner.yaml"], { CODEFORGE_IDLE_EXIT_SECONDS: "120" }).idle_exit_seconds).toBe(120);
  });

  it("refuse a bad idle time, naming the setting", () => {
    expect(configErrorOf(() => load(["--idle-exit-seconds", "0"])).message).toContain("idle_exit_seconds (CODEFORGE_IDLE_EXIT_SECONDS)");
    expect(configErrorOf(() => load([], { CODEFORGE_IDLE_EXIT_SECONDS: "soon" })).message).toContain("idle_exit_seconds");
    expect(configErrorOf(() => load(["--idle-exit-seconds"])).message).toBe("--idle-exit-seconds needs a value");
  });

  it("refuse an unknown argument, so a typo never runs a long-lived runner where a run-once one was meant", () => {
    const err = configErrorOf(() => load(["--onse"]));
    expect(err.message).toContain('unknown argument "--onse"');
    expect(err.message).toContain("--once");
  });
});
