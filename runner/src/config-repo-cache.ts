/**
 * The repository cache's settings (`git/repo-cache.ts`), a slice of `RunnerConfig`: on or off,
 * where the mirrors live, and how much disk they may take.
 * @module
 */
import path from "node:path";
import { z } from "zod";
import { booleanSetting, numberSetting } from "#api/settings.js";

/** YAML key → environment variable that overrides it. */
export const REPO_CACHE_ENV_NAMES = {
  repo_cache: "CODEFORGE_REPO_CACHE",
  repo_cache_dir: "CODEFORGE_REPO_CACHE_DIR",
  repo_cache_max_mb: "CODEFORGE_REPO_CACHE_MAX_MB",
} as const;

export const RepoCacheSettings = {
  /** Clone from a mirror of each repository kept on this runner (the task's access is checked first). */
  repo_cache: booleanSetting(true),
  /** Where the mirrors live: the runner's own directory, never mounted into a sandbox. Unset: `<workspace_root>/.repo-cache`. */
  repo_cache_dir: z
    .string()
    .min(1)
    .transform((p) => path.resolve(p))
    .optional(),
  /** Past this, the least recently used mirrors are removed. */
  repo_cache_max_mb: numberSetting(
    z
      .number({ error: "must be a whole number" })
      .int("must be a whole number")
      .min(16)
      .max(1 << 24),
  ).default(10_240),
};

/** The cache's directory: the one set, else `.repo-cache` in the workspace root (whose workspaces never include it). */
export function repoCacheDir(config: { workspace_root: string; repo_cache_dir?: string }): string {
  return config.repo_cache_dir ?? path.join(config.workspace_root, ".repo-cache");
}
