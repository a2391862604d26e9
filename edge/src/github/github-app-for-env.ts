/**
 * The GitHub App client of this isolate, made from the edge's settings once and kept (its App
 * JWT and installation tokens are cached inside it until shortly before they expire).
 * @module
 */
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import { GitHubApp } from "./github-app.js";

let current: { key: string; app: GitHubApp } | null = null;

/** The App client for `env`'s credentials; throws `not_found` when the App is not configured. */
export function githubAppOf(env: Env): GitHubApp {
  const github = edgeConfig(env).github;
  if (!github) throw new ApiError("not_found", "the GitHub App is not configured on this edge (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_WEBHOOK_SECRET)");
  const key = `${github.appId}\n${github.apiUrl}\n${github.privateKey}`;
  if (current?.key !== key) current = { key, app: new GitHubApp({ appId: github.appId, privateKey: github.privateKey, apiUrl: github.apiUrl }) };
  return current.app;
}
