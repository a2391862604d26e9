/**
 * The `codeforge` binary as shipped: `bin/codeforge.js` running the bundle `npm run build:cli`
 * made (the node suite's global setup builds it from the current sources), as real processes,
 * offline. It refuses to run a bundle that is missing or older than a source it was built from,
 * and `--jq` loads jq from `node_modules` to compile the expression before the command runs.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a `codeforge` binary (this project's unless `bin` is given) with no edge configured. */
function run(args: string[], bin = join(PROJECT_ROOT, "bin", "codeforge.js")): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env.PATH, HOME: tmpdir(), CODEFORGE_URL: "http://127.0.0.1:9", CODEFORGE_API_KEY: "cf_unused" }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const temp = mkdtempSync(join(tmpdir(), "codeforge-bundle-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe("the codeforge binary", () => {
  it("runs the bundled client: --version from package.json, --help from the commands' declarations", async () => {
    const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string };
    const [shown, help] = await Promise.all([run(["--version"]), run(["tasks", "--help"])]);
    expect(shown).toEqual({ code: 0, stdout: `codeforge ${version}\n`, stderr: "" });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("codeforge tasks [flags]");
    expect(help.stdout).toMatch(/--status <status> +Only tasks with this status \(one of: queued, /);
  });

  it("refuses a missing bundle, and one older than a source it was built from, saying how to build it", async () => {
    // A copy of the binary beside a bundle of its own, built from one "source".
    mkdirSync(join(temp, "bin"));
    mkdirSync(join(temp, "dist"));
    const bin = join(temp, "bin", "codeforge.js");
    copyFileSync(join(PROJECT_ROOT, "bin", "codeforge.js"), bin);
    const missing = await run(["--version"], bin);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`codeforge: the command is not built (dist/codeforge.js is missing)\n  build it: npm run build:cli (in ${temp})\n`);

    writeFileSync(join(temp, "dist", "codeforge.js"), 'process.stdout.write("bundle ran\\n");\n');
    writeFileSync(join(temp, "dist", "codeforge.inputs.json"), JSON.stringify(["client/source.ts"]));
    const gone = await run(["--version"], bin);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("dist/codeforge.js was built from client/source.ts, which is gone");

    mkdirSync(join(temp, "client"));
    const source = join(temp, "client", "source.ts");
    writeFileSync(source, "");
    const past = new Date(Date.now() - 60_000);
    utimesSync(source, past, past);
    expect(await run([], bin)).toEqual({ code: 0, stdout: "bundle ran\n", stderr: "" });

    utimesSync(source, new Date(), new Date(Date.now() + 1_000));
    const stale = await run([], bin);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toBe("");
    expect(stale.stderr).toContain("dist/codeforge.js is older than client/source.ts\n  build it: npm run build:cli");
  });

  it("compiles a --jq expression before the command runs: a compile error is a usage error naming it", async () => {
    const [syntax, unknownName, empty] = await Promise.all([
      run(["tasks", "--jq", ".tasks[] | .id["]),
      run(["tasks", "--jq", ".tasks[] | idd"]),
      run(["tasks", "--jq", ""]),
    ]);
    for (const failed of [syntax, unknownName, empty]) {
      // Exit 2 (not 4: the edge at the configured URL was never asked); --jq implies --json errors.
      expect(failed.code, failed.stderr).toBe(2);
      expect(failed.stdout).toBe("");
    }
    expect(JSON.parse(syntax.stderr).error).toMatchObject({
      code: "usage",
      message: '--jq ".tasks[] | .id[": syntax error, unexpected end of file (Unix shell quoting issues?)',
    });
    expect(JSON.parse(unknownName.stderr).error.message).toBe('--jq ".tasks[] | idd": idd/0 is not defined');
    expect(JSON.parse(empty.stderr).error.message).toContain("Top-level program not given");
  });
});
