#!/usr/bin/env node
// The `codeforge` command. Runs the TypeScript client through tsx, as the runner does.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../client/cli/main.ts");
const { consoleOutput } = await import("../client/cli/output.ts");
const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
process.exitCode = await runCli(process.argv.slice(2), process.env, consoleOutput(color));
