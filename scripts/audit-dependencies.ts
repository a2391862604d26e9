/**
 * `npm run audit` (part of `npm test`): `npm audit` of the production dependencies — what the
 * runner image and the Worker ship — failing on high and critical advisories that no entry of
 * `audit-allowlist.json` allows. Each entry names the advisory and the package, says why the
 * advisory does not apply, who reviewed it and the day by which it must be reviewed again;
 * after that day it allows nothing.
 *
 * When npm cannot get a report (the registry has no audit endpoint, no network), the outcome
 * depends on `CI_REQUIRE_AUDIT`: `1` fails, anything else warns loudly and passes, so that a
 * machine without the audit endpoint does not fail every run. A CI that must audit sets it.
 * @module
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Allowlist, judge, readAuditOutput, type Advisory } from "./dependency-audit.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ALLOWLIST = "audit-allowlist.json";

/** npm audit exits 1 when it finds anything; its JSON on stdout is what counts. */
function npmAudit(): Promise<string> {
  return new Promise((resolve) => {
    execFile("npm", ["audit", "--omit=dev", "--json"], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve(stdout || (error ? JSON.stringify({ message: `${error.message} ${stderr}`.trim() }) : ""));
    });
  });
}

const line = (a: Advisory) => `  ${a.severity.padEnd(8)} ${a.package} ${a.range} — ${a.title} (${a.url || a.id})`;

async function main(): Promise<number> {
  const allowlist = Allowlist.parse(JSON.parse(await readFile(new URL(`../${ALLOWLIST}`, import.meta.url), "utf8")));
  const read = readAuditOutput(await npmAudit());
  if (!read.ok) {
    const required = process.env.CI_REQUIRE_AUDIT === "1";
    console.error(`\n!!! DEPENDENCY AUDIT NOT DONE: ${read.problem}`);
    console.error(
      required
        ? "!!! CI_REQUIRE_AUDIT=1: failing, since the production dependencies could not be audited.\n"
        : "!!! Passing without an audit (set CI_REQUIRE_AUDIT=1 to fail instead). Audit on a machine that reaches the npm audit endpoint.\n",
    );
    return required ? 1 : 0;
  }
  const today = new Date().toISOString().slice(0, 10);
  const verdict = judge(read.advisories, allowlist, today);
  console.log(
    `dependency audit (production dependencies): ${read.advisories.length} advisories, ${verdict.failing.length} failing, ${verdict.allowed.length} allowed by ${ALLOWLIST}`,
  );
  for (const { advisory, entry } of verdict.allowed)
    console.log(`${line(advisory)}\n    allowed until ${entry.review_by} (${entry.reviewed_by}): ${entry.reason}`);
  if (verdict.other.length) console.log(`below high, not failing:\n${verdict.other.map(line).join("\n")}`);
  for (const entry of verdict.expired)
    console.warn(`${ALLOWLIST}: ${entry.id} (${entry.package}) was due for review on ${entry.review_by}; it allows nothing until reviewed again`);
  for (const entry of verdict.unused) console.warn(`${ALLOWLIST}: ${entry.id} (${entry.package}) matches no current advisory; remove it`);
  if (verdict.failing.length) {
    console.error(`high or critical advisories with no reviewed allowlist entry:\n${verdict.failing.map(line).join("\n")}`);
    console.error(`Upgrade the package, or review the advisory and add an entry to ${ALLOWLIST}.`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
