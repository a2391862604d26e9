/**
 * How `codeforge` finds its edge and key (flags, environment, config file) and how it reports
 * what goes wrong: refused keys, wrong URLs, rate limits and usage errors, each with the exit
 * code scripts rely on. Run as a real process against the real edge (cli-harness.ts).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TaskList } from "#api/task-queries.js";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";
import { codeforge, newKey, receiver, stack, useCliStack } from "./cli-harness.js";

useCliStack();

describe("codeforge connection settings and errors", { timeout: 90_000 }, () => {
  it("reads the URL and key from a private config file; flags beat the environment, which beats the file", async () => {
    // A task to list, so that an empty list cannot pass for one read with the file's key.
    expect((await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Listed through the config file"])).code).toBe(0);
    const file = join(stack.stateDir, "cli-config.json");
    writeFileSync(file, JSON.stringify({ url: stack.edgeUrl, api_key: stack.adminKey }), { mode: 0o600 });
    const fromFile = await codeforge(["tasks", "--json", "--config", file], { CODEFORGE_URL: "", CODEFORGE_API_KEY: "" });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(TaskList.parse(JSON.parse(fromFile.stdout)).tasks.length).toBeGreaterThan(0);
    // The default place, found through HOME.
    const home = join(stack.stateDir, "home");
    mkdirSync(join(home, ".config", "codeforge"), { recursive: true });
    writeFileSync(join(home, ".config", "codeforge", "config.json"), JSON.stringify({ url: stack.edgeUrl, api_key: stack.adminKey }), { mode: 0o600 });
    expect((await codeforge(["runners"], { HOME: home, CODEFORGE_URL: "", CODEFORGE_API_KEY: "" })).code).toBe(0);

    // The environment's key beats the file's; a flag beats the environment.
    writeFileSync(file, JSON.stringify({ url: stack.edgeUrl, api_key: "cf_wrong_key_from_the_file_000" }), { mode: 0o600 });
    expect((await codeforge(["tasks", "--config", file])).code).toBe(0);
    const flagged = await codeforge(["tasks", "--config", file, "--url", "http://127.0.0.1:9"]);
    expect(flagged.code).toBe(4);
    expect(flagged.stderr).toContain("The URL came from --url");
    const wrong = await codeforge(["tasks"], { CODEFORGE_CONFIG: file, CODEFORGE_API_KEY: "" });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toContain(`hint: the key came from ${file}`);
  });

  it("refuses a config file holding a key that other users can read, and one that is not valid", async () => {
    const file = join(stack.stateDir, "open-config.json");
    writeFileSync(file, JSON.stringify({ url: stack.edgeUrl, api_key: stack.adminKey }));
    chmodSync(file, 0o644);
    const open = await codeforge(["tasks", "--config", file]);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain(`${file} holds an API key but other users can access it (mode 0644); run: chmod 600 ${file}`);
    expect(open.stderr).not.toContain(stack.adminKey);
    // Without a key in it, the file may be readable: the URL is no secret.
    writeFileSync(file, JSON.stringify({ url: stack.edgeUrl }));
    expect((await codeforge(["tasks", "--config", file])).code).toBe(0);
    writeFileSync(file, JSON.stringify({ url: stack.edgeUrl, token: "x" }));
    expect((await codeforge(["tasks", "--config", file])).stderr).toContain('expected {"url": "...", "api_key": "..."}');
    expect((await codeforge(["tasks", "--config", join(stack.stateDir, "nope.json")])).stderr).toContain("cannot read the config file");
  });

  it("explains a missing or refused key, a wrong URL and a rate limit, each with its exit code", async () => {
    const noKey = await codeforge(["tasks"], { CODEFORGE_API_KEY: "" });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('no API key: pass --key, set CODEFORGE_API_KEY, or put "api_key" in');

    const badKey = await codeforge(["status", "tsk_0000000000aaaaaaaaaaaaaaaa"], { CODEFORGE_API_KEY: "cf_wrong_key_0000000000" });
    expect(badKey.code).toBe(5);
    expect(badKey.stderr).toMatch(/^codeforge: unauthorized: invalid API key \(request [\w-]+\)/);
    expect(badKey.stderr).not.toContain("cf_wrong_key_0000000000");

    const withPath = await codeforge(["tasks"], { CODEFORGE_URL: `${stack.edgeUrl}/api/v1` });
    expect(withPath.code).toBe(3);
    expect(withPath.stderr).toContain("not_found: no route for GET /api/v1/api/v1/tasks");
    expect(withPath.stderr).toContain("the edge's base URL, without a path?");

    const notTheEdge = await codeforge(["tasks"], { CODEFORGE_URL: receiver.url });
    expect(notTheEdge.code).toBe(4);
    expect(notTheEdge.stderr).toContain(`${receiver.url} answered GET /api/v1/tasks with HTTP 404 (no content type), not the CodeForge API`);

    const unreachable = await codeforge(["status", "tsk_0000000000aaaaaaaaaaaaaaaa"], { CODEFORGE_URL: "http://127.0.0.1:1" });
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain("cannot reach the edge at http://127.0.0.1:1");
    expect((await codeforge(["tasks"], { CODEFORGE_URL: "ftp://127.0.0.1" })).stderr).toContain("is not an http(s) URL");

    // A key limited to 1 request a minute: the second is refused with Retry-After.
    const slow = await newKey("slow", ["--requests-per-minute", "1"]);
    expect((await codeforge(["tasks"], { CODEFORGE_API_KEY: slow.key })).code).toBe(0);
    const limited = await codeforge(["tasks"], { CODEFORGE_API_KEY: slow.key });
    expect(limited.code).toBe(6);
    expect(limited.stderr).toMatch(/^codeforge: rate_limited: /);
    expect(limited.stderr).toMatch(/hint: rate limited; try again in \d+ s \(Retry-After\)/);
    // With --json, the error is one JSON line on stderr.
    const limitedJson = await codeforge(["tasks", "--json"], { CODEFORGE_API_KEY: slow.key });
    expect(limitedJson.code).toBe(6);
    expect(JSON.parse(limitedJson.stderr)).toEqual({
      error: {
        code: "rate_limited",
        message: expect.any(String),
        request_id: expect.any(String),
        field: null,
        status: 429,
        retry_after_seconds: expect.any(Number),
        hint: expect.stringContaining("try again"),
        exit_code: 6,
      },
    });
  });

  it("filters the JSON it prints with --jq: strings raw, other values as compact JSON, one per line", async () => {
    const submitted = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Filtered with jq", "--jq", ".id"]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    expect(submitted.stdout).toMatch(/^tsk_\w+\n$/);

    const [ids, picked, url, none, count] = await Promise.all([
      codeforge(["tasks", "--jq", ".tasks[].id"]),
      codeforge(["tasks", "--jq", `.tasks[] | select(.id == "${id}") | {id, prompt: .prompt_excerpt}`]),
      codeforge(["status", id, "--jq", ".repo.url"]),
      codeforge(["tasks", "--jq", '.tasks[] | select(.id == "tsk_none")']),
      codeforge(["tasks", "--limit", "1", "--jq", ".tasks | length"]),
    ]);
    for (const run of [ids, picked, url, none, count]) expect(run.code, run.stderr).toBe(0);
    expect(ids.stdout.trimEnd().split("\n")).toContain(id);
    expect(ids.stdout).toMatch(/^(tsk_\w+\n)+$/);
    expect(picked.stdout).toBe(`${JSON.stringify({ id, prompt: "Filtered with jq" })}\n`);
    expect(url.stdout).toBe(`${stack.repoUrl}\n`);
    expect(none.stdout).toBe("");
    expect(count.stdout).toBe("1\n");

    // Shell completion offers task ids from the edge (through `codeforge tasks --jq`), as bash asks for them.
    const bin = join(PROJECT_ROOT, "bin", "codeforge.js");
    const completed = execFileSync(
      "bash",
      ["-c", `source <("$0" completion bash); COMP_WORDS=("$0" status tsk_); COMP_CWORD=2; _codeforge; printf '%s\\n' "\${COMPREPLY[@]}"`, bin],
      { env: { PATH: process.env.PATH, HOME: stack.stateDir, CODEFORGE_URL: stack.edgeUrl, CODEFORGE_API_KEY: stack.adminKey }, encoding: "utf8" },
    );
    expect(completed.trimEnd().split("\n")).toContain(id);

    // jq failing on a document: reported on stderr, exit 2, as a usage error.
    const failed = await codeforge(["status", id, "--jq", ".id[]"]);
    expect(failed.code).toBe(2);
    expect(failed.stdout).toBe("");
    // (jq shortens the value it quotes.)
    expect(JSON.parse(failed.stderr).error).toMatchObject({
      code: "usage",
      message: expect.stringMatching(/^--jq "\.id\[\]": Cannot iterate over string \("tsk_/),
    });
  });

  it("exits 2 on usage errors, and documents the exit codes in --help", async () => {
    const [noRepo, unknown, noId, badFlag, badTimeout, help] = await Promise.all([
      codeforge(["submit", "--prompt", "x"]),
      codeforge(["frobnicate"]),
      codeforge(["status"]),
      codeforge(["tasks", "--frob"]),
      codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x", "--timeout", "soon"]),
      codeforge(["--help"], { CODEFORGE_API_KEY: "" }),
    ]);
    for (const run of [noRepo, unknown, noId, badFlag, badTimeout]) expect(run.code).toBe(2);
    expect(noRepo.stderr).toContain("submit needs --repo");
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(noId.stderr).toContain("status needs <task-id>");
    expect(badFlag.stderr).toContain("Unknown option '--frob'");
    expect(badFlag.stderr).toContain("hint: codeforge tasks --help shows its flags and examples");
    expect(badTimeout.stderr).toContain("--timeout takes a whole number");
    expect(help.code).toBe(0);
    for (const command of ["submit", "watch", "logs", "status", "cancel", "tasks", "keys", "runners", "deliveries"])
      expect(help.stdout).toMatch(new RegExp(`^ {2}${command}: +\\S`, "m"));
    expect(help.stdout).toMatch(/^ {2}5 {3}the API key was refused \(401\)/m);
    expect(help.stdout).toMatch(/^ {2}6 {3}rate limited \(429\)/m);
  });
});
