/**
 * The fake GitHub's App authentication: its own RSA key pair (the private half exported as PKCS#1,
 * the way GitHub hands it out), RS256 App JWT verification on `/app/*`, and the installation
 * tokens it mints and later checks on `/repos/*` — scoped to repositories and permissions the way
 * GitHub scopes them.
 * @module
 */
import { createVerify, generateKeyPair, type KeyObject, randomBytes } from "node:crypto";
import { promisify } from "node:util";

/** What the fake installation was granted; tokens may ask for these or fewer. */
export const INSTALLATION_PERMISSIONS: Record<string, "read" | "write"> = {
  contents: "write",
  pull_requests: "write",
  issues: "write",
  metadata: "read",
};
const TOKEN_LIFETIME_MS = 60 * 60_000;
/** GitHub refuses App JWTs that live longer than this. */
const JWT_MAX_LIFETIME_S = 600;
/** Slack GitHub allows for an `iat` from a clock running ahead. */
const JWT_CLOCK_SKEW_S = 60;

export interface IssuedToken {
  token: string;
  installationId: number;
  repositories: string[] | null;
  permissions: Record<string, string>;
  expiresAt: number;
}

export interface AuthFailure {
  status: 401 | 403 | 404 | 422;
  message: string;
}

export async function generateAppKeys(): Promise<{ privateKeyPem: string; publicKey: KeyObject }> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)("rsa", { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(), publicKey };
}

/** Checks `Authorization: Bearer <jwt>`: RS256 with the App's key, `iss` = App id, not expired. */
export function verifyAppJwt(authorization: string | undefined, publicKey: KeyObject, appId: string, nowMs: number): AuthFailure | null {
  const jwt = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  if (!jwt) return { status: 401, message: "A JSON web token could not be decoded" };
  const [header, payload, signature] = jwt.split(".");
  if (!header || !payload || !signature) return { status: 401, message: "A JSON web token could not be decoded" };
  let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
  let alg: unknown;
  try {
    alg = JSON.parse(Buffer.from(header, "base64url").toString()).alg;
    claims = JSON.parse(Buffer.from(payload, "base64url").toString());
  } catch {
    return { status: 401, message: "A JSON web token could not be decoded" };
  }
  const verifier = createVerify("RSA-SHA256").update(`${header}.${payload}`);
  if (alg !== "RS256" || !verifier.verify(publicKey, Buffer.from(signature, "base64url"))) {
    return { status: 401, message: "A JSON web token could not be decoded" };
  }
  const nowS = Math.floor(nowMs / 1000);
  if (String(claims.iss) !== appId) return { status: 401, message: "'Issuer' claim ('iss') must be an Integer" };
  if (typeof claims.exp !== "number" || claims.exp <= nowS) {
    return { status: 401, message: "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires" };
  }
  if (typeof claims.iat !== "number" || claims.iat > nowS + JWT_CLOCK_SKEW_S) {
    return { status: 401, message: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued" };
  }
  if (claims.exp - claims.iat > JWT_MAX_LIFETIME_S) return { status: 401, message: "'Expiration time' claim ('exp') is too far in the future" };
  return null;
}

/** Mints tokens like `POST /app/installations/{id}/access_tokens` and checks them on repository calls. */
export class TokenStore {
  readonly issued: IssuedToken[] = [];

  mint(installationId: number, body: { repositories?: unknown; permissions?: unknown }, nowMs: number): IssuedToken | AuthFailure {
    const repositories = body.repositories === undefined ? null : body.repositories;
    if (repositories !== null && (!Array.isArray(repositories) || !repositories.every((r) => typeof r === "string"))) {
      return { status: 422, message: "Invalid request.\n\nFor 'properties/repositories', it is not an array of strings." };
    }
    const asked = (body.permissions ?? INSTALLATION_PERMISSIONS) as Record<string, unknown>;
    for (const [name, level] of Object.entries(asked)) {
      const granted = INSTALLATION_PERMISSIONS[name];
      if (!granted || (level !== "read" && level !== "write") || (level === "write" && granted !== "write")) {
        return { status: 422, message: "The permissions requested are not granted to this installation." };
      }
    }
    const token: IssuedToken = {
      token: `ghs_${randomBytes(18).toString("base64url").replace(/[-_]/g, "x")}`,
      installationId,
      repositories: repositories as string[] | null,
      permissions: { ...(asked as Record<string, string>), metadata: "read" },
      expiresAt: nowMs + TOKEN_LIFETIME_MS,
    };
    this.issued.push(token);
    return token;
  }

  /**
   * Checks `Authorization: token|Bearer ghs_…` for a call on `repoName` needing one of `needs`
   * (e.g. `[["issues", "write"], ["pull_requests", "write"]]`).
   */
  check(authorization: string | undefined, repoName: string, needs: [string, "read" | "write"][], nowMs: number): AuthFailure | null {
    const value = /^(?:token|Bearer)\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    const token = this.issued.find((t) => t.token === value);
    if (!token || token.expiresAt <= nowMs) return { status: 401, message: "Bad credentials" };
    if (token.repositories && !token.repositories.some((r) => r.toLowerCase() === repoName.toLowerCase())) {
      return { status: 403, message: "Resource not accessible by integration" };
    }
    const allowed = needs.some(([name, level]) => {
      const has = token.permissions[name];
      return has === "write" || (has === "read" && level === "read");
    });
    return allowed ? null : { status: 403, message: "Resource not accessible by integration" };
  }
}
