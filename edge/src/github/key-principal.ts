/**
 * The CodeForge key a GitHub installation's tasks belong to, as a principal: the key's scopes
 * and limits apply to every task started from GitHub, and its `tasks` rate-limit window counts
 * them as it counts `POST /api/v1/tasks`.
 * @module
 */
import { hasScope } from "#api/keys.js";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import { keyStoreOf } from "../keys/key-shards.js";
import type { Principal } from "../keys/principal.js";
import { decideAll } from "../rate-limit/fail-policy.js";
import { limiterForEnv } from "../rate-limit/limiter-for-env.js";

/**
 * The principal of key `keyId`; `forbidden` when the key is revoked, expired or may not write
 * tasks. (A key's `allowed_cidrs` do not apply: GitHub's deliveries are authenticated by their
 * signature, not by where they come from.)
 */
export async function principalOfKey(env: Env, keyId: string): Promise<Principal> {
  const found = await keyStoreOf(env, keyId).get(keyId);
  if (!found.ok) throw new ApiError("forbidden", `the CodeForge key this installation is mapped to (${keyId}) does not exist`);
  const key = found.value;
  if (key.status !== "active") throw new ApiError("forbidden", `the CodeForge key this installation is mapped to (${keyId}) is ${key.status}`);
  if (!hasScope(key.scopes, "tasks:write"))
    throw new ApiError("forbidden", `the CodeForge key this installation is mapped to (${keyId}) lacks the tasks:write scope`);
  return { keyId: key.id, owner: key.id, admin: hasScope(key.scopes, "admin"), scopes: key.scopes, limits: key.limits };
}

/**
 * Spends one start from the key's `tasks` and `requests` windows, as the API's task routes do;
 * refused with `rate_limited` (saying when to retry) when either is full.
 */
export async function spendTaskWindow(env: Env, principal: Principal): Promise<void> {
  const config = edgeConfig(env).rateLimit;
  if (!config.enabled) return;
  const windowMs = 60_000;
  const policies = [
    { policy: "tasks" as const, limit: principal.limits?.tasks_per_minute ?? config.tasksPerMinute },
    { policy: "requests" as const, limit: principal.limits?.requests_per_minute ?? config.requestsPerMinute },
  ];
  const decisions = await decideAll({
    limiter: limiterForEnv(env),
    group: principal.keyId,
    policies: policies.map(({ policy, limit }) => ({ policy, key: `${policy}:${principal.keyId}`, options: { limit, windowMs } })),
    failClosed: config.failClosed,
  });
  const refused = decisions.findIndex((d) => !d.degraded && !d.allowed);
  if (refused >= 0) {
    const { policy, limit } = policies[refused]!;
    throw new ApiError(
      "rate_limited",
      `rate limit "${policy}" of the mapped key exceeded (${limit} per minute); retry in ${decisions[refused]!.retryAfterSeconds} s`,
    );
  }
}
