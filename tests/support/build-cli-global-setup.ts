/**
 * Builds `dist/codeforge.js` before the node suite's tests, so the tests that run the real
 * `codeforge` binary run the client as it is now, never a bundle built from older sources.
 */
import { buildCli } from "../../scripts/build-cli.js";

export default async function setup(): Promise<void> {
  await buildCli();
}
