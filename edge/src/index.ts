/**
 * The Worker's entry point: the Hono app, and the Durable Object classes it binds.
 * @module
 */
import { createApp } from "./app.js";

export { AuditLog } from "./audit/audit-log-object.js";
export { Dispatcher } from "./dispatcher/dispatcher.js";
export { KeyStore } from "./keys/key-store-object.js";
export { Metrics } from "./metrics/metrics-object.js";
export { RateLimiter } from "./rate-limit/rate-limiter-object.js";
export { PoolRegistry } from "./registry/pool-registry.js";
export { TaskObject } from "./task/task-object.js";
export { TaskIndex } from "./task-index/task-index-object.js";
export { DeadLetters } from "./webhooks/dead-letters.js";
export { WebhookSecrets } from "./webhooks/webhook-secrets.js";

export default createApp();
