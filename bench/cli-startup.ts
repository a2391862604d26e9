/**
 * How long the `codeforge` command takes from start to exit, as a person or a script meets it:
 * `codeforge --version` (start-up alone) and `codeforge tasks` (start-up, one request to the
 * bench's edge, a table printed), each run as the shipped binary (`bin/codeforge.js`, the esbuild
 * bundle) and as the same client's TypeScript run through tsx (what the binary did before the
 * bundle), beside Node starting an empty script (the floor neither can go under). Runs are
 * interleaved, one of each in turn, so load drifting on the machine hits every variant alike.
 * Target: `codeforge --version` at most 200 ms at the median.
 *
 * Run by `bench/run.ts` (section 7); alone: `BENCH_SECTIONS=7 npx tsx bench/run.ts`. `BENCH_CLI_RUNS`
 * sets the runs per variant (default 20).
 * @module
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { buildCli } from "../scripts/build-cli.js";
import { PROJECT_ROOT } from "../scripts/local-stack.js";
import { ms, printTable, summarize } from "./stats.js";

const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 20);
const TARGET_VERSION_MS = 200;

interface Variant {
  label: string;
  /** Node's arguments before the command's own. */
  node: string[];
}

const VARIANTS: Variant[] = [
  { label: "bundle (bin/codeforge.js)", node: [join(PROJECT_ROOT, "bin", "codeforge.js")] },
  { label: "tsx (client/cli/entry.ts)", node: ["--import", "tsx", join(PROJECT_ROOT, "client", "cli", "entry.ts")] },
];

/** Milliseconds from spawning `node …args` to its exit; throws unless it exits 0. */
function timeRun(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("exit", (code) => {
      const elapsed = performance.now() - started;
      if (code === 0) resolve(elapsed);
      else reject(new Error(`node ${args.join(" ")} exited ${code}: ${stderr.trim()}`));
    });
  });
}

/** Section `label`: the figures, printed. `edge` is the bench's edge and its admin key. */
export async function cliStartup(label: string, edge: { url: string; adminKey: string }): Promise<void> {
  await buildCli(); // measure the client as it is now
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", CODEFORGE_URL: edge.url, CODEFORGE_API_KEY: edge.adminKey };
  const commands = [["--version"], ["tasks"]];
  const floor: number[] = [];
  const samples = new Map<string, number[]>();
  const key = (variant: Variant, command: string[]) => `${variant.label} ${command.join(" ")}`;
  // One warm-up run of each (the file system cache), then the measured rounds.
  for (const variant of VARIANTS) for (const command of commands) await timeRun([...variant.node, ...command], env);
  for (let round = 0; round < RUNS; round++) {
    floor.push(await timeRun(["-e", "0"], env));
    for (const command of commands) {
      for (const variant of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
        const list = samples.get(key(variant, command)) ?? [];
        list.push(await timeRun([...variant.node, ...command], env));
        samples.set(key(variant, command), list);
      }
    }
  }
  console.log(`${label}. CLI start-up: start to exit, ${RUNS} runs of each, interleaved (the tasks list from the bench's edge)`);
  const rows = [["command", "run as", "p50", "p90", "max"]];
  const floorSummary = summarize(floor);
  rows.push(["node -e 0", "(Node itself)", ms(floorSummary.p50), ms(floorSummary.p90), ms(floorSummary.max)]);
  for (const command of commands) {
    for (const variant of VARIANTS) {
      const s = summarize(samples.get(key(variant, command))!);
      rows.push([`codeforge ${command.join(" ")}`, variant.label, ms(s.p50), ms(s.p90), ms(s.max)]);
    }
  }
  printTable(rows);
  const version = summarize(samples.get(key(VARIANTS[0]!, ["--version"]))!).p50;
  const viaTsx = summarize(samples.get(key(VARIANTS[1]!, ["--version"]))!).p50;
  console.log(
    `   codeforge --version: ${ms(version)} bundled (target ≤ ${TARGET_VERSION_MS} ms: ${version <= TARGET_VERSION_MS ? "met" : "NOT met"}), ${(viaTsx / version).toFixed(1)}× faster than through tsx; ${ms(version - floorSummary.p50)} above Node's own start\n`,
  );
}
