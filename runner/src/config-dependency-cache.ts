/**
 * The dependency caches' settings (`attempt/dependency-cache.ts`), a slice of `RunnerConfig`:
 * on or off, where the caches live, and how much disk they may take.
 * @module
 */
import path from "node:path";
import { z } from "zod";
import { booleanSetting, numberSetting } from "#api/settings.js";

/** YAML key → environment variable that overrides it. */
export const DEPENDENCY_CACHE_ENV_NAMES = {
  dependency_cache: "CODEFORGE_DEPENDENCY_CACHE",
  dependency_cache_dir: "CODEFORGE_DEPENDENCY_CACHE_DIR",
  dependency_cache_max_mb: "CODEFORGE_DEPENDENCY_CACHE_MAX_MB",
} as const;

export const DependencyCacheSettings = {
  /** Lend each setup its repository's package-manager caches (shared by the tasks of one repository in this pool). */
  dependency_cache: booleanSetting(true),
  /** Where the caches live: the runner's own directory. Unset: `<workspace_root>/.dependency-cache`. */
  dependency_cache_dir: z
    .string()
    .min(1)
    .transform((p) => path.resolve(p))
    .optional(),
  /** Past this, the least recently used repositories' caches are removed. */
  dependency_cache_max_mb: numberSetting(
    z
      .number({ error: "must be a whole number" })
      .int("must be a whole number")
      .min(16)
      .max(1 << 24),
  ).default(10_240),
};

/** The caches' directory: the one set, else `.dependency-cache` in the workspace root (whose workspaces never include it). */
export function dependencyCacheDir(config: { workspace_root: string; dependency_cache_dir?: string }): string {
  return config.dependency_cache_dir ?? path.join(config.workspace_root, ".dependency-cache");
}
