#!/usr/bin/env node
// The `codeforge` command: runs the client as `npm run build:cli` bundled it into dist/ (npm
// install and npm ci build it). A bundle missing, or older than a source it was built from (an
// edit, a git pull), is refused with the command that builds it, never run as it was.
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = new URL("../", import.meta.url);
const bundle = new URL("dist/codeforge.js", root);
const inputs = new URL("dist/codeforge.inputs.json", root);

function refuse(why) {
  process.stderr.write(`codeforge: ${why}\n  build it: npm run build:cli (in ${fileURLToPath(root).replace(/\/$/, "")})\n`);
  process.exit(1);
}

if (!existsSync(bundle) || !existsSync(inputs)) refuse("the command is not built (dist/codeforge.js is missing)");
const builtMs = statSync(bundle).mtimeMs;
for (const input of JSON.parse(readFileSync(inputs, "utf8"))) {
  const source = statSync(new URL(input, root), { throwIfNoEntry: false });
  if (!source) refuse(`dist/codeforge.js was built from ${input}, which is gone`);
  else if (source.mtimeMs > builtMs) refuse(`dist/codeforge.js is older than ${input}`);
}
await import(bundle.href);
