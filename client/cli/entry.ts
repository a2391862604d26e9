/**
 * The `codeforge` command's body: what `bin/codeforge.js` runs, bundled with everything it
 * imports into `dist/codeforge.js` by `npm run build:cli` (`scripts/build-cli.ts`). The one
 * place that hands the client `process.argv`, `process.env` and the real stdout and stderr.
 * @module
 */
import { runCli } from "./main.js";
import { consoleOutput } from "./output.js";

const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
process.exitCode = await runCli(process.argv.slice(2), process.env, consoleOutput(color));
