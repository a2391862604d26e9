/**
 * The client limits CodeForge applies, as middleware the app mounts:
 *
 * - `requests`: every /api/v1 request, per API key (`RATE_LIMIT_REQUESTS_PER_MINUTE`);
 * - `tasks`: `POST /api/v1/tasks` and follow-ups (`POST /api/v1/tasks/:id/instructions`), per
 *   API key (`RATE_LIMIT_TASKS_PER_MINUTE`);
 * - `streams`: new stream connections, per client IP (`RATE_LIMIT_STREAMS_PER_MINUTE`).
 *
 * A key's own limits (`principal.limits`, set by the key store) win over the configured ones.
 * Health, readiness, metrics and the runner API are mounted outside these and never limited.
 * @module
 */
import { edgeConfig } from "../env.js";
import type { Principal } from "../middleware/api-key-auth.js";
import { rateLimit } from "../middleware/rate-limit.js";
import { clientIp } from "./client-ip.js";

/** Per-key limits a principal may carry (optional: keys without them get the configured ones). */
export interface PrincipalLimits {
  requests_per_minute?: number;
  tasks_per_minute?: number;
}

type LimitedPrincipal = Principal & { limits?: PrincipalLimits };

const principalOf = (c: { get(key: "principal"): unknown }) => c.get("principal") as LimitedPrincipal;

export const requestsLimit = () =>
  rateLimit({
    policy: "requests",
    key: (c) => principalOf(c).keyId,
    limit: (c) => principalOf(c).limits?.requests_per_minute ?? edgeConfig(c.env).rateLimit.requestsPerMinute,
  });

export const tasksLimit = () =>
  rateLimit({
    policy: "tasks",
    key: (c) => principalOf(c).keyId,
    limit: (c) => principalOf(c).limits?.tasks_per_minute ?? edgeConfig(c.env).rateLimit.tasksPerMinute,
  });

export const streamsLimit = () =>
  rateLimit({
    policy: "streams",
    key: (c) => clientIp(c.req),
    limit: (c) => edgeConfig(c.env).rateLimit.streamsPerMinute,
  });
