/**
 * Where the `codeforge` command finds the edge and its API key: flags first, then the
 * environment (`CODEFORGE_URL`, `CODEFORGE_API_KEY`), then a config file
 * (`--config`, `CODEFORGE_CONFIG`, or `~/.config/codeforge/config.json`).
 * @module
 */
import { readFileSync } from "node:fs";
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
}

export const DEFAULT_URL = "http://127.0.0.1:8787";

export function resolveConfig(input: {
  flags: { url?: string; key?: string; config?: string };
  env: NodeJS.ProcessEnv;
  readFile?: (path: string) => string;
}): CliConfig {
  const readFile = input.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  // An empty variable counts as unset, as shells make it easy to export one by accident.
  const fromEnv = (name: string) => input.env[name] || undefined;
  const explicit = input.flags.config ?? fromEnv("CODEFORGE_CONFIG");
  const path = explicit ?? join(input.env.HOME ?? homedir(), ".config", "codeforge", "config.json");
  let file: z.infer<typeof ConfigFile> = {};
  let text: string | null = null;
  try {
    text = readFile(path);
  } catch {
    if (explicit) throw new UsageError(`cannot read the config file ${path}`);
  }
  if (text !== null) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UsageError(`${path} is not valid JSON`);
    }
    const parsed = ConfigFile.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new UsageError(`${path}: ${issue.path.join(".") || "file"}: ${issue.message} (expected {"url": "...", "api_key": "..."})`);
    }
    file = parsed.data;
  }
  const url = input.flags.url ?? fromEnv("CODEFORGE_URL") ?? file.url ?? DEFAULT_URL;
  const apiKey = input.flags.key ?? fromEnv("CODEFORGE_API_KEY") ?? file.api_key;
  if (!apiKey) throw new UsageError("no API key: pass --key, set CODEFORGE_API_KEY, or put api_key in ~/.config/codeforge/config.json");
  try {
    new URL(url);
  } catch {
    throw new UsageError(`--url ${url} is not a URL`);
  }
  return { url, apiKey };
}
