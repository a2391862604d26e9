/**
 * Who is calling: what a key (or the bootstrap admin key) grants a request. `key-verdict.ts`
 * makes one from a stored key; `middleware/api-key-auth.ts` puts it on the request; routes and
 * the rate limiter read it.
 * @module
 */
import type { KeyLimits, Scope } from "#api/keys.js";

/** Who is calling. `owner` scopes the tasks a principal sees. */
export interface Principal {
  keyId: string;
  owner: string;
  /** Sees every task; holds the `admin` scope. */
  admin: boolean;
  scopes: readonly Scope[];
  /** The key's own limits (the rate limiter reads the first two); absent for the bootstrap key. */
  limits?: KeyLimits;
}
