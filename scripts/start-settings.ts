/**
 * What `npm start` gives its edge, and the keys it keeps between starts.
 *
 * The edge gets every edge setting of `npm start`'s environment (`edge-settings.ts`) laid over
 * a few defaults that suit one person experimenting on their own machine, and `npm start`'s own
 * admin key and runner secret. The admin key and runner secret are generated once and kept in
 * the state directory (mode 0600), so a restart keeps the key a config file or a script was
 * given.
 * @module
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newSecret } from "#api/ids.js";
import { callerEdgeSettings } from "./edge-settings.js";

/**
 * `npm start`'s edge defaults, each overridden by the same name in its environment: webhooks
 * may reach a receiver on this machine; one may submit 120 tasks a minute rather than
 * production's 10, so trying things out (or restarting, which submits the demo task again)
 * does not meet the limit; and no header tells the client's address, as `wrangler dev` answers
 * clients directly and every header it sees is theirs to set.
 */
export const LOCAL_EDGE_DEFAULTS: Readonly<Record<string, string>> = {
  WEBHOOKS_ALLOW_LOCAL: "true",
  RATE_LIMIT_TASKS_PER_MINUTE: "120",
  CLIENT_ADDRESS_HEADER: "none",
};

/**
 * The edge's vars under `npm start`: the defaults above, then the caller's edge settings, then
 * what the local stack needs — local mode (for its `file://` demo repository), its admin key,
 * and its runner's secret among `RUNNER_SECRETS` (kept beside any the caller gave, for runners
 * of their own).
 */
export function localEdgeVars(env: NodeJS.ProcessEnv, names: ReadonlySet<string>, own: { adminKey: string; runnerSecret: string }): Record<string, string> {
  const caller = callerEdgeSettings(env, names);
  const others = (caller.RUNNER_SECRETS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s && s !== own.runnerSecret);
  return {
    ...LOCAL_EDGE_DEFAULTS,
    ...caller,
    CODEFORGE_LOCAL_MODE: "true",
    CODEFORGE_ADMIN_KEY: own.adminKey,
    RUNNER_SECRETS: [own.runnerSecret, ...others].join(","),
  };
}

/**
 * `GITHUB_APP_PRIVATE_KEY_FILE`, a convenience of `npm start`: the GitHub App's private key as
 * GitHub hands it out (a `.pem` file), read so it need not be put into a variable; it reaches
 * the edge as `GITHUB_APP_PRIVATE_KEY`, line breaks and all (Windows line ends become `\n`).
 * Nothing when the file setting is unset; an error naming the problem when the file cannot be
 * read, holds no PEM key, or `GITHUB_APP_PRIVATE_KEY` is set as well.
 */
export function githubPrivateKeyFromFile(env: NodeJS.ProcessEnv): { GITHUB_APP_PRIVATE_KEY?: string } {
  const file = env.GITHUB_APP_PRIVATE_KEY_FILE;
  if (!file) return {};
  if (env.GITHUB_APP_PRIVATE_KEY) throw new Error("set GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE, not both");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`GITHUB_APP_PRIVATE_KEY_FILE cannot be read: ${(err as Error).message}`);
  }
  const pem = text.replaceAll("\r\n", "\n").trim();
  if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----\n[\s\S]+\n-----END [A-Z ]*PRIVATE KEY-----$/.test(pem)) {
    throw new Error(`GITHUB_APP_PRIVATE_KEY_FILE (${file}) holds no PEM private key (-----BEGIN … PRIVATE KEY-----)`);
  }
  return { GITHUB_APP_PRIVATE_KEY: `${pem}\n` };
}

export interface KeptSecret {
  value: string;
  /** Where it came from: the environment variable, the state directory's file, or made now. */
  source: "environment" | "kept" | "new";
  /** The file it is kept in (also when it came from the environment: then the file is unused). */
  file: string;
}

/**
 * The secret named by `envName` when set; else the one kept in `<stateDir>/<fileName>`; else a
 * new one, written there readable by this user only. A kept file others could read is made
 * private again.
 */
export function keptSecret(env: NodeJS.ProcessEnv, envName: string, stateDir: string, fileName: string, prefix: string): KeptSecret {
  const file = join(stateDir, fileName);
  const given = env[envName];
  if (given) return { value: given, source: "environment", file };
  let kept = "";
  try {
    kept = readFileSync(file, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (kept.length >= 16 && !/\s|,/.test(kept)) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { value: kept, source: "kept", file };
  }
  const value = newSecret(prefix);
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync's mode applies only when it creates the file
  return { value, source: "new", file };
}
