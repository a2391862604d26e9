/**
 * The client limits CodeForge applies, as middleware the app mounts:
 *
 * - `requests`: every /api/v1 request, per API key (`RATE_LIMIT_REQUESTS_PER_MINUTE`);
 * - `tasks`: `POST /api/v1/tasks` and follow-ups (`POST /api/v1/tasks/:id/instructions`), per
 *   API key (`RATE_LIMIT_TASKS_PER_MINUTE`) — decided with the key's `requests` window in one
 *   limiter call, and admitted only when both have room;
 * - `streams`: new stream connections, per client address (`RATE_LIMIT_STREAMS_PER_MINUTE`);
 *   per API key when the edge has no trustworthy address (`CLIENT_ADDRESS_HEADER`), so a
 *   client cannot spread its connections over forged addresses, nor fill one shared bucket.
 *
 * A key's own limits (`principal.limits`, set by the key store) win over the configured ones.
 * Health, readiness, metrics and the runner API are mounted outside these and never limited.
 * @module
 */
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { edgeConfig } from "../env.js";
import type { Principal } from "../keys/principal.js";
import { rateLimit, type RateLimitPolicy } from "./rate-limit-middleware.js";
import { clientAddress } from "./client-address.js";

/** Per-key limits a principal may carry (optional: keys without them get the configured ones). */
export interface PrincipalLimits {
  requests_per_minute?: number;
  tasks_per_minute?: number;
}

type LimitedPrincipal = Principal & { limits?: PrincipalLimits };

/** Routes that start a run, and so spend the `tasks` budget (a follow-up starts one like a new task). */
export const TASK_CREATING_ROUTES: ReadonlySet<string> = new Set(["/api/v1/tasks", "/api/v1/tasks/:id/instructions"]);

const principalOf = (c: { get(key: "principal"): unknown }) => c.get("principal") as LimitedPrincipal;

/** True when the request is a POST a task-creating route will handle. */
function createsTask(c: Context): boolean {
  return c.req.method === "POST" && matchedRoutes(c).some((route) => route.method === "POST" && TASK_CREATING_ROUTES.has(route.path));
}

/** `requests` for every request, plus `tasks` for those that start a run. */
export const keyLimits = () =>
  rateLimit({
    key: (c) => principalOf(c).keyId,
    policies: (c) => {
      const { limits } = principalOf(c);
      const config = edgeConfig(c.env).rateLimit;
      const requests: RateLimitPolicy = { policy: "requests", limit: limits?.requests_per_minute ?? config.requestsPerMinute };
      return createsTask(c) ? [{ policy: "tasks", limit: limits?.tasks_per_minute ?? config.tasksPerMinute }, requests] : [requests];
    },
  });

export const streamsLimit = () =>
  rateLimit({
    key: (c) => {
      const address = clientAddress(c);
      return address ?? `key:${principalOf(c).keyId}`;
    },
    policies: (c) => [{ policy: "streams", limit: edgeConfig(c.env).rateLimit.streamsPerMinute }],
  });
