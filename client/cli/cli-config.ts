/**
 * Where the `codeforge` command finds the edge and its API key: flags first (`--url`,
 * `--key`), then the environment (`CODEFORGE_URL`, `CODEFORGE_API_KEY`), then a config file
 * (`--config`, else `CODEFORGE_CONFIG`, else `~/.config/codeforge/config.json`), then the
 * local default URL. Each value remembers where it came from, so errors can say which one to fix.
 *
 * A config file that holds a key must be private to its owner (like ssh's keys): one that
 * others can read or write is refused, with the `chmod` that fixes it.
 * @module
 */
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { UsageError } from "./exit-codes.js";

const ConfigFile = z.strictObject({
  url: z.string().url().optional(),
  api_key: z.string().min(1).optional(),
});

export interface CliConfig {
  url: string;
  apiKey: string;
  /** Where the URL and the key came from, for error hints: `--url`, `CODEFORGE_URL`, a file path… */
  urlSource: string;
  keySource: string;
}

export const DEFAULT_URL = "http://127.0.0.1:8787";

/** Permission bits that let anyone but the owner at a file. */
const NOT_OWNER_BITS = 0o077;

export interface ConfigSources {
  flags: { url?: string; key?: string; config?: string };
  env: NodeJS.ProcessEnv;
  readFile?: (path: string) => string;
  /** The file's permission bits; null where they mean nothing (Windows). */
  fileMode?: (path: string) => number | null;
}

/** The default config file for this environment. */
export function defaultConfigPath(env: NodeJS.ProcessEnv): string {
  return join(env.HOME || homedir(), ".config", "codeforge", "config.json");
}

export function resolveConfig(input: ConfigSources): CliConfig {
  const readFile = input.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  const fileMode = input.fileMode ?? ((p: string) => (process.platform === "win32" ? null : statSync(p).mode & 0o777));
  // An empty variable counts as unset, as shells make it easy to export one by accident.
  const fromEnv = (name: string) => input.env[name] || undefined;
  const explicit = input.flags.config ?? fromEnv("CODEFORGE_CONFIG");
  const path = explicit ?? defaultConfigPath(input.env);
  let file: z.infer<typeof ConfigFile> = {};
  let text: string | null = null;
  try {
    text = readFile(path);
  } catch (err) {
    // No file at the default place is the common case: flags or the environment are enough.
    if (explicit) throw new UsageError(`cannot read the config file ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (text !== null) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UsageError(`${path} is not valid JSON (expected {"url": "...", "api_key": "..."})`);
    }
    const parsed = ConfigFile.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new UsageError(`${path}: ${issue.path.join(".") || "file"}: ${issue.message} (expected {"url": "...", "api_key": "..."})`);
    }
    file = parsed.data;
    const mode = file.api_key === undefined ? null : fileMode(path);
    if (mode !== null && (mode & NOT_OWNER_BITS) !== 0) {
      throw new UsageError(`${path} holds an API key but other users can access it (mode ${mode.toString(8).padStart(4, "0")}); run: chmod 600 ${path}`);
    }
  }
  const pick = (pairs: [string | undefined, string][]): [string, string] | null => {
    const hit = pairs.find(([value]) => value !== undefined);
    return hit ? [hit[0]!, hit[1]] : null;
  };
  const [url, urlSource] = pick([
    [input.flags.url, "--url"],
    [fromEnv("CODEFORGE_URL"), "CODEFORGE_URL"],
    [file.url, path],
  ]) ?? [DEFAULT_URL, "the default"];
  const key = pick([
    [input.flags.key, "--key"],
    [fromEnv("CODEFORGE_API_KEY"), "CODEFORGE_API_KEY"],
    [file.api_key, path],
  ]);
  if (!key) {
    throw new UsageError(`no API key: pass --key, set CODEFORGE_API_KEY, or put "api_key" in ${path}`, {
      hint: "npm start prints the local admin key (kept in .codeforge/admin-key); an admin makes others with codeforge keys create",
    });
  }
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new UsageError(`${url} (from ${urlSource}) is not a URL; give the edge's base URL, e.g. ${DEFAULT_URL}`);
  }
  if (parsedUrl.protocol !== "http:" && parsedUrl.protocol !== "https:") {
    throw new UsageError(`${url} (from ${urlSource}) is not an http(s) URL; give the edge's base URL, e.g. ${DEFAULT_URL}`);
  }
  return { url, apiKey: key[0], urlSource, keySource: key[1] };
}
