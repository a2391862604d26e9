/**
 * `npm run build:cli`: bundles the `codeforge` client (`client/cli/entry.ts` and everything it
 * imports, `#api/…` and `package.json` included) into one ES module, `dist/codeforge.js`, so the
 * command starts without compiling TypeScript at run time (tsx takes a second or two; the bundle
 * starts in a fraction of that). `npm install` and `npm ci` run it (`prepare`), the node test
 * suite runs it before its tests (`tests/support/build-cli-global-setup.ts`), `npm start` before
 * it starts (`prestart`).
 *
 * Beside the bundle it writes `dist/codeforge.inputs.json`, the project files it was built from:
 * `bin/codeforge.js` refuses to run a bundle older than any of them, so an edited or pulled
 * client is never run as it was before.
 *
 * `jq-web` stays outside the bundle: `--jq` alone loads it, from `node_modules`, so the start of
 * every other command does not pay for its WebAssembly.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { PROJECT_ROOT } from "./local-stack.js";

/** What `bin/codeforge.js` imports. */
export const CLI_BUNDLE = join(PROJECT_ROOT, "dist", "codeforge.js");
/** The project files the bundle was built from, relative to the project's root, as a JSON array. */
export const CLI_BUNDLE_INPUTS = join(PROJECT_ROOT, "dist", "codeforge.inputs.json");
/** Loaded at run time, from `node_modules`, when they are needed. */
const EXTERNAL = ["jq-web"];

/** Builds `dist/codeforge.js` and its inputs list; returns the bundle's size in bytes. */
export async function buildCli(): Promise<number> {
  const { build } = await import("esbuild");
  const result = await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: ["client/cli/entry.ts"],
    outfile: CLI_BUNDLE,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Smaller to read and parse at every start. (Not keepNames: it costs the start some 15%, and
    // no error message is built from a function's or class's name.)
    minify: true,
    external: EXTERNAL,
    // CommonJS dependencies (ws) require Node's modules: an ES module needs its own `require`.
    banner: { js: 'import { createRequire as __codeforgeRequire } from "node:module"; const require = __codeforgeRequire(import.meta.url);' },
    metafile: true,
    logLevel: "warning",
  });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((input) => !input.split(/[\\/]/).includes("node_modules"))
    .sort();
  mkdirSync(join(PROJECT_ROOT, "dist"), { recursive: true });
  writeFileSync(CLI_BUNDLE_INPUTS, `${JSON.stringify(inputs, null, 2)}\n`);
  return Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
}

/** Whether esbuild (a dev dependency) is installed: `npm ci --omit=dev` leaves it out. */
async function haveEsbuild(): Promise<boolean> {
  try {
    await import("esbuild");
    return true;
  } catch {
    return false; // not installed: the caller says what that means
  }
}

if (process.argv[1]?.endsWith("build-cli.ts")) {
  // `prepare` passes --if-possible: an install without dev dependencies (a runner host) has no
  // esbuild, needs no `codeforge` command, and must not fail for it.
  if (process.argv.includes("--if-possible") && !(await haveEsbuild())) {
    console.log("codeforge: esbuild is not installed (no dev dependencies), so the codeforge command was not built");
  } else {
    const bytes = await buildCli();
    console.log(`built ${relative(process.cwd(), CLI_BUNDLE) || CLI_BUNDLE} (${Math.round(bytes / 1024)} KiB)`);
  }
}
