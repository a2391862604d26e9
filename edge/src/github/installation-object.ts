/**
 * `GitHubInstallation`: one Durable Object per installation of the GitHub App. It holds which
 * CodeForge key the installation's tasks belong to (mapped by an admin through
 * `PUT /api/v1/github/installations/{id}`), and keeps, briefly, what every delivery from the
 * installation needs to know: a repository's settings (its `.codeforge.yml` on the default
 * branch over the App-wide defaults) and a user's role in a repository. Per installation, so no
 * single object hears every webhook of every organisation.
 * @module
 */
import type { Env } from "../env.js";
import { edgeConfig } from "../env.js";
import { logFor } from "../log.js";
import type { Migration } from "../sql/migrations.js";
import { SqlObject } from "../sql/sql-object.js";
import { githubAppOf } from "./github-app-for-env.js";
import type { RepoRole } from "./github-app.js";
import { parseRepoConfig, type ResolvedRepoConfig, resolveRepoConfig } from "./repo-config.js";

const INSTALLATION_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "installation link",
    statements: [
      `CREATE TABLE link (
        installation_id INTEGER PRIMARY KEY,
        key_id TEXT NOT NULL,
        linked_by TEXT NOT NULL,
        linked_at INTEGER NOT NULL
      )`,
    ],
  },
];

/** How long a repository's settings and a user's role are kept before GitHub is asked again. */
export const REPO_CONFIG_TTL_MS = 60_000;
export const ROLE_TTL_MS = 60_000;
/** At most this many entries in each cache (the oldest go first). */
const CACHE_MAX_ENTRIES = 1_000;

/** Which key an installation's tasks belong to. */
export interface InstallationLink {
  installationId: number;
  keyId: string;
  linkedBy: string;
  linkedAt: number;
}

/** What a repository's deliveries are judged by. */
export interface RepoContext {
  /** The key its tasks belong to; null when no admin mapped the installation. */
  keyId: string | null;
  config: ResolvedRepoConfig;
  /** Why the repository's `.codeforge.yml` was not used (bad YAML, an unknown key), or null. */
  configProblem: string | null;
}

export interface RepoRef {
  owner: string;
  name: string;
  fullName: string;
  defaultBranch: string;
}

type Cached<T> = { at: number; value: T };

function remember<T>(cache: Map<string, Cached<T>>, key: string, value: T, now: number): T {
  if (cache.size >= CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(key, { at: now, value });
  return value;
}

export class GitHubInstallation extends SqlObject {
  private readonly configs = new Map<string, Cached<{ config: ResolvedRepoConfig; problem: string | null }>>();
  private readonly roles = new Map<string, Cached<RepoRole>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, INSTALLATION_MIGRATIONS);
  }

  async link(input: { installationId: number; keyId: string; by: string }): Promise<InstallationLink> {
    const now = Date.now();
    this.sql.exec("DELETE FROM link");
    this.sql.exec("INSERT INTO link (installation_id, key_id, linked_by, linked_at) VALUES (?, ?, ?, ?)", input.installationId, input.keyId, input.by, now);
    return { installationId: input.installationId, keyId: input.keyId, linkedBy: input.by, linkedAt: now };
  }

  /** Removes the mapping; the one removed, or null when there was none. */
  async unlink(): Promise<InstallationLink | null> {
    const link = this.read();
    this.sql.exec("DELETE FROM link");
    return link;
  }

  async get(): Promise<InstallationLink | null> {
    return this.read();
  }

  /**
   * The key and settings for a delivery from `repo`. An installation no admin mapped reads no
   * settings (its deliveries are refused). A `.codeforge.yml` GitHub cannot serve, or that does
   * not parse, leaves the App-wide defaults in force and says why.
   */
  async repoContext(installationId: number, repo: RepoRef): Promise<RepoContext> {
    const link = this.read();
    const defaults = edgeConfig(this.env).github?.defaults ?? {};
    if (!link) return { keyId: null, config: resolveRepoConfig(defaults, null), configProblem: null };
    const now = Date.now();
    const cacheKey = `${repo.fullName}@${repo.defaultBranch}`;
    const cached = this.configs.get(cacheKey);
    if (cached && now - cached.at < REPO_CONFIG_TTL_MS) return { keyId: link.keyId, ...cached.value, configProblem: cached.value.problem };
    let found: { config: ResolvedRepoConfig; problem: string | null };
    try {
      const text = await githubAppOf(this.env).repo(installationId, repo.owner, repo.name).readFile(".codeforge.yml", repo.defaultBranch);
      const parsed = text === null ? null : parseRepoConfig(text);
      found =
        parsed === null || parsed.ok
          ? { config: resolveRepoConfig(defaults, parsed?.config ?? null), problem: null }
          : { config: resolveRepoConfig(defaults, null), problem: `.codeforge.yml: ${parsed.problem}` };
    } catch (err) {
      logFor(this.env).warn("github: could not read .codeforge.yml; using the App-wide defaults", { repository: repo.fullName, error: String(err) });
      // Not remembered: the next delivery asks again.
      return { keyId: link.keyId, config: resolveRepoConfig(defaults, null), configProblem: "GitHub did not serve .codeforge.yml" };
    }
    if (found.problem)
      logFor(this.env).warn("github: .codeforge.yml not used; the App-wide defaults apply", { repository: repo.fullName, problem: found.problem });
    remember(this.configs, cacheKey, found, now);
    return { keyId: link.keyId, config: found.config, configProblem: found.problem };
  }

  /** `user`'s role in `repo` as GitHub reports it (`none` for a non-collaborator), kept `ROLE_TTL_MS`. */
  async role(installationId: number, repo: RepoRef, user: string): Promise<RepoRole> {
    const now = Date.now();
    const cacheKey = `${repo.fullName}:${user.toLowerCase()}`;
    const cached = this.roles.get(cacheKey);
    if (cached && now - cached.at < ROLE_TTL_MS) return cached.value;
    const role = await githubAppOf(this.env).repo(installationId, repo.owner, repo.name).permission(user);
    return remember(this.roles, cacheKey, role, now);
  }

  private read(): InstallationLink | null {
    const row = this.sql.exec<{ installation_id: number; key_id: string; linked_by: string; linked_at: number }>("SELECT * FROM link").toArray()[0];
    return row ? { installationId: row.installation_id, keyId: row.key_id, linkedBy: row.linked_by, linkedAt: row.linked_at } : null;
  }
}

/** The object of installation `installationId`. */
export function installationOf(env: Env, installationId: number) {
  return env.GITHUB_INSTALLATIONS.get(env.GITHUB_INSTALLATIONS.idFromName(`installation:${installationId}`));
}
