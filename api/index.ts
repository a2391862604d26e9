/**
 * The CodeForge contract: shapes, codes, limits and signing shared by the edge, the runner
 * and clients. Web APIs only: this package runs in workerd and in Node.
 * @module
 */
export * from "./audit.js";
export * from "./branch-name.js";
export * from "./cidr.js";
export * from "./callback-url.js";
export * from "./egress-host.js";
export * from "./errors.js";
export * from "./ids.js";
export * from "./keys.js";
export * from "./limits.js";
export * from "./log-redaction.js";
export * from "./metrics.js";
export * from "./public-address.js";
export * from "./repo-url.js";
export * from "./runner-credential.js";
export * from "./runner-protocol.js";
export * from "./signing.js";
export * from "./stream-events.js";
export * from "./task.js";
export * from "./task-queries.js";
export * from "./task-request.js";
export * from "./task-result.js";
export * from "./trace-context.js";
export * from "./webhook-event-types.js";
export * from "./webhook-signature.js";
export * from "./webhooks.js";
