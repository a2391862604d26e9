/**
 * How long the `codeforge` command takes from start to exit, as a person or a script meets it:
 * `codeforge --version` (start-up alone) and `codeforge tasks` (start-up, one request to the
 * bench's edge, a table printed), each run as the shipped binary (`bin/codeforge.js`, the esbuild
 * bundle) and as the same client's TypeScript run through tsx (what the binary did before the
 * bundle), beside Node starting an empty script (the floor neither can go under). Runs are
 * interleaved, one of each in turn, so load drifting on the machine hits every variant alike.
 * Each run's CPU time (user + system) is printed beside its wall time: on a loaded machine the
 * wall time grows with the load, the CPU time much less. Target: `codeforge --version` at most
 * 200 ms at the median.
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

interface Timing {
  wallMs: number;
  /** User + system CPU time of the process: what it costs, whatever else the machine is running. */
  cpuMs: number;
}

/**
 * Times `node …args` from spawn to exit, wall clock and CPU (read from the shell's `times`, which
 * reports its children's); throws unless it exits 0.
 */
function timeRun(args: string[], env: NodeJS.ProcessEnv): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("sh", ["-c", '"$@" >/dev/null; code=$?; times; exit $code', "sh", process.execPath, ...args], { cwd: PROJECT_ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      const wallMs = performance.now() - started;
      // `times`: the shell's own user and system time, then its children's (`0m0.110000s 0m0.020000s`).
      const children = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s\s*$/.exec(stdout.trim());
      if (code !== 0 || !children) return reject(new Error(`node ${args.join(" ")} exited ${code}: ${stderr.trim()}`));
      const seconds = (m: string, s: string) => Number(m) * 60 + Number(s);
      resolve({ wallMs, cpuMs: (seconds(children[1]!, children[2]!) + seconds(children[3]!, children[4]!)) * 1_000 });
    });
  });
}

/** Section `label`: the figures, printed. `edge` is the bench's edge and its admin key. */
export async function cliStartup(label: string, edge: { url: string; adminKey: string }): Promise<void> {
  await buildCli(); // measure the client as it is now
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", CODEFORGE_URL: edge.url, CODEFORGE_API_KEY: edge.adminKey };
  const commands = [["--version"], ["tasks"]];
  const floor: Timing[] = [];
  const samples = new Map<string, Timing[]>();
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
  const rows = [["command", "run as", "wall p50", "wall p90", "CPU p50"]];
  const row = (name: string, as: string, timings: Timing[]) => {
    const wall = summarize(timings.map((t) => t.wallMs));
    rows.push([name, as, ms(wall.p50), ms(wall.p90), ms(summarize(timings.map((t) => t.cpuMs)).p50)]);
    return wall.p50;
  };
  const nodeItself = row("node -e 0", "(Node itself)", floor);
  const p50 = new Map<string, number>();
  for (const command of commands)
    for (const variant of VARIANTS) p50.set(key(variant, command), row(`codeforge ${command.join(" ")}`, variant.label, samples.get(key(variant, command))!));
  printTable(rows);
  const version = p50.get(key(VARIANTS[0]!, ["--version"]))!;
  const viaTsx = p50.get(key(VARIANTS[1]!, ["--version"]))!;
  const versionCpu = summarize(samples.get(key(VARIANTS[0]!, ["--version"]))!.map((t) => t.cpuMs)).p50;
  console.log(
    `   codeforge --version: ${ms(version)} bundled (target ≤ ${TARGET_VERSION_MS} ms: ${version <= TARGET_VERSION_MS ? "met" : "NOT met"}; ${ms(versionCpu)} of CPU), ${(viaTsx / version).toFixed(1)}× faster than through tsx; ${ms(version - nodeItself)} above Node's own start\n`,
  );
}
