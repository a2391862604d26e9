/**
 * CodeForge as a GitHub App: the App JWT (RS256 through WebCrypto, so it runs in workerd and
 * Node alike), installation access tokens, and per-repository clients. Both kinds of credential
 * are cached in memory for most of their life and minted once for concurrent callers; neither,
 * nor the private key, ever appears in an error or a log line.
 * @module
 */
import githubAppJwt from "universal-github-app-jwt";
import { GitHubAppKeyError, toPkcs8Pem } from "./app-private-key.js";
import { GitHubRepo } from "./github-repo.js";
import { type GitHubSend, githubSender } from "./github-request.js";

export { GitHubAppKeyError } from "./app-private-key.js";
export { type ReactionContent, type ReactionTarget, GitHubRepo, type RepoRole } from "./github-repo.js";
export { GitHubApiError } from "./github-request.js";

export interface GitHubAppCredentials {
  /** The App's id (GITHUB_APP_ID). */
  appId: string;
  /** PEM, PKCS#1 as GitHub hands it out or PKCS#8; `\n` escapes allowed. */
  privateKey: string;
  /** REST API base, `https://api.github.com` or GitHub Enterprise Server's `https://host/api/v3`. */
  apiUrl: string;
}

export type InstallationPermissions = Record<string, "read" | "write">;

/** What CodeForge needs on a repository: push a branch, open the pull request, talk on the issue. */
export const DEFAULT_TOKEN_PERMISSIONS: InstallationPermissions = { contents: "write", pull_requests: "write", issues: "write" };
/** The JWT claims it was issued this long ago, for clocks running ahead of GitHub's. */
const JWT_BACKDATE_S = 60;
/** A cached JWT is replaced this long before it expires. */
const JWT_REFRESH_BEFORE_MS = 60_000;
/** A cached installation token is replaced this long before it expires (GitHub's last 1 h). */
const TOKEN_REFRESH_BEFORE_MS = 5 * 60_000;

export interface GitHubAppOptions {
  fetch?: typeof fetch;
  /** Clock in ms, for tests. */
  now?: () => number;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * The App's client.
 * @example
 * const app = new GitHubApp({ appId, privateKey, apiUrl: "https://api.github.com" });
 * await app.repo(installationId, "octo", "hello").createComment(1, "On it");
 */
export class GitHubApp {
  readonly #credentials: GitHubAppCredentials;
  readonly #send: GitHubSend;
  readonly #now: () => number;
  #pkcs8?: string;
  #jwt?: Promise<CachedToken>;
  readonly #repoTokens = new Map<string, Promise<CachedToken>>();

  constructor(credentials: GitHubAppCredentials, options: GitHubAppOptions = {}) {
    this.#credentials = credentials;
    this.#send = githubSender(credentials.apiUrl, options.fetch);
    this.#now = options.now ?? Date.now;
  }

  /** The App JWT (`Authorization: Bearer …` on `/app/*`), reused until a minute before it expires. */
  async appJwt(): Promise<string> {
    const cached = this.#jwt && (await this.#jwt.catch(() => undefined));
    if (cached && cached.expiresAt - JWT_REFRESH_BEFORE_MS > this.#now()) return cached.token;
    const pending = this.#signJwt();
    this.#jwt = pending;
    pending.catch(() => {
      if (this.#jwt === pending) this.#jwt = undefined;
    });
    return (await pending).token;
  }

  async #signJwt(): Promise<CachedToken> {
    this.#pkcs8 ??= toPkcs8Pem(this.#credentials.privateKey);
    const nowS = Math.floor(this.#now() / 1000);
    let result: { expiration: number; token: string };
    try {
      // The library claims iat = now - 30 and exp = iat + 600 (GitHub's maximum); shifting `now`
      // gives iat = now - 60 s and exp = now + 9 min, within GitHub's 10-minute maximum.
      result = await githubAppJwt({ id: this.#credentials.appId, privateKey: this.#pkcs8, now: nowS + 30 - JWT_BACKDATE_S });
    } catch (err) {
      throw new GitHubAppKeyError(`The GitHub App private key could not sign the App JWT (${(err as Error).name}).`);
    }
    return { token: result.token, expiresAt: result.expiration * 1000 };
  }

  /**
   * Mints an installation access token (`POST /app/installations/{id}/access_tokens`), limited to
   * `repositories` (names, without the owner) and `permissions` (default contents, pull requests
   * and issues: write). GitHub's tokens last an hour.
   */
  async installationToken(
    installationId: number,
    options: { repositories?: string[]; permissions?: InstallationPermissions } = {},
  ): Promise<{ token: string; expiresAt: number }> {
    const route = "POST /app/installations/{installation_id}/access_tokens";
    const body = { repositories: options.repositories, permissions: options.permissions ?? DEFAULT_TOKEN_PERMISSIONS };
    const jwt = await this.appJwt();
    try {
      const { data } = await this.#send<{ token: string; expires_at: string }>(route, { installation_id: installationId, ...body }, `Bearer ${jwt}`);
      return { token: data.token, expiresAt: Date.parse(data.expires_at) };
    } catch (err) {
      // A refused JWT (clock skew, rotated key) is not reused.
      if ((err as { status?: number }).status === 401) this.#jwt = undefined;
      throw err;
    }
  }

  /** A client for one repository, on a token scoped to it (cached until 5 minutes before it expires). */
  repo(installationId: number, owner: string, name: string): GitHubRepo {
    const key = `${installationId}/${owner}/${name}`.toLowerCase();
    return new GitHubRepo(owner, name, this.#send, {
      token: () => this.#repoToken(key, installationId, name),
      invalidate: () => this.#repoTokens.delete(key),
    });
  }

  async #repoToken(key: string, installationId: number, name: string): Promise<string> {
    const cached = this.#repoTokens.get(key);
    const token = cached && (await cached.catch(() => undefined));
    if (token && token.expiresAt - TOKEN_REFRESH_BEFORE_MS > this.#now()) return token.token;
    if (this.#repoTokens.get(key) !== cached) return this.#repoToken(key, installationId, name);
    const pending = this.installationToken(installationId, { repositories: [name] });
    this.#repoTokens.set(key, pending);
    pending.catch(() => {
      if (this.#repoTokens.get(key) === pending) this.#repoTokens.delete(key);
    });
    return (await pending).token;
  }
}
