/**
 * How the edge reaches a GitHub conversation's object (`GitHubThread`): one per issue or pull
 * request, named by the repository's id (stable across renames and transfers) and its number.
 * @module
 */
import type { Env } from "../env.js";

export function threadOf(env: Env, repoId: number, number: number) {
  return env.GITHUB_THREADS.get(env.GITHUB_THREADS.idFromName(`${repoId}#${number}`));
}
