/**
 * `--jq <expression>`: every JSON document a command prints goes through jq (the real one,
 * compiled to WebAssembly: `jq-web`) and what jq outputs is printed instead, as `gh --jq` does:
 * strings raw, every other value as compact JSON, one per line. Commands know nothing of it:
 * `main.ts` hands them an `Output` whose `line` filters, since in `--json` mode each `line` is one
 * JSON document. A line that is not JSON (there should be none) is printed as it is.
 *
 * jq-web is loaded only when `--jq` is given (it is kept out of the bundle, see
 * `scripts/build-cli.ts`), and the expression is compiled before the command runs, so a typo is a
 * usage error before anything is submitted or changed. An error while filtering one document is
 * reported on stderr and the rest are still filtered, as jq does with its inputs.
 * @module
 */
import { EXIT, UsageError } from "./exit-codes.js";
import type { Output } from "./output.js";

/** What jq-web throws when jq exits non-zero: 3 for a compile error, 5 for an error while running. */
interface JqFailure {
  exitCode?: number;
  stderr?: string;
}

/** jq's own flags: strings raw (`-r`), everything else on one line (`-c`). */
const JQ_FLAGS = ["-r", "-c"];

/** jq's message without its `jq: error:` prefix, location and closing count. */
function jqMessage(err: unknown): string {
  const failure = err as JqFailure;
  const text = typeof failure?.stderr === "string" ? failure.stderr : err instanceof Error ? err.message : String(err);
  const said = text
    .split("\n")
    .filter((line) => line.startsWith("jq: error"))
    .map((line) =>
      line
        .replace(/^jq: error(?: \(at [^)]*\))?: /, "")
        .replace(/ at <top-level>, line \d+:$/, "")
        .trim(),
    )
    .join("; ");
  return said || text.trim() || `jq exited with ${failure?.exitCode ?? "an error"}`;
}

/** jq, loaded (from `node_modules`, outside the bundle) and instantiated. */
async function loadJq() {
  const jqWeb = await import("jq-web");
  return await jqWeb.default;
}

/**
 * Compiles `expression`, without running it: a compile error is a `UsageError` naming the
 * expression and what jq said. Returns the filter for one document.
 */
async function compileJq(expression: string): Promise<(json: string) => string | undefined> {
  const jq = await loadJq();
  // Defined and referenced (so jq resolves every name in it) but never run: `empty | f`.
  const check = `def _codeforge_jq_check: (\n${expression}\n); empty | _codeforge_jq_check`;
  try {
    jq.raw("null", check, JQ_FLAGS);
  } catch (wrapped) {
    if ((wrapped as JqFailure).exitCode !== 3) throw wrapped;
    let said = jqMessage(wrapped);
    // The message about the expression as written (its syntax errors point into it, not into the check).
    try {
      jq.raw("null", expression, ["-n", ...JQ_FLAGS]);
    } catch (bare) {
      if ((bare as JqFailure).exitCode === 3) said = jqMessage(bare);
    }
    throw new UsageError(`--jq ${JSON.stringify(expression)}: ${said}`);
  }
  return (json) => jq.raw(json, expression, JQ_FLAGS);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false; // not a JSON document: printed unfiltered
  }
}

/**
 * `out` with each JSON `line` replaced by what `expression` makes of it (compiled first: a
 * `UsageError` if it does not compile). Each document jq fails on is handed to `report` as a
 * `UsageError`; `exitCode` then turns the command's success into a usage error (2), since what
 * it printed is not all it was asked for, and leaves any other exit code as it is.
 */
export async function jqOutput(expression: string, out: Output, report: (err: UsageError) => void): Promise<{ out: Output; exitCode(code: number): number }> {
  const filter = await compileJq(expression);
  let failed = false;
  const filtered: Output = {
    ...out,
    line(text) {
      if (!isJson(text)) return out.line(text);
      let result: string | undefined;
      try {
        result = filter(text);
      } catch (err) {
        failed = true;
        report(new UsageError(`--jq ${JSON.stringify(expression)}: ${jqMessage(err)}`));
        return;
      }
      if (result !== undefined) out.line(result);
    },
  };
  return { out: filtered, exitCode: (code) => (failed && code === EXIT.ok ? EXIT.usage : code) };
}
