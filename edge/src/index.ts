/**
 * The Worker's entry point: the Hono app, and the Durable Object classes it binds — each traced
 * with OpenTelemetry when the `OTEL_*` settings ask for it (see `tracing/instrument-edge.ts`).
 * @module
 */
import { env } from "cloudflare:workers";
import { createApp } from "./app.js";
import { AuditLog as AuditLogObject } from "./audit/audit-log-object.js";
import { Dispatcher as DispatcherObject } from "./dispatcher/dispatcher.js";
import { KeyStore as KeyStoreObject } from "./keys/key-store-object.js";
import { Metrics as MetricsObject } from "./metrics/metrics-object.js";
import { RateLimiter as RateLimiterObject } from "./rate-limit/rate-limiter-object.js";
import { PoolRegistry as PoolRegistryObject } from "./registry/pool-registry.js";
import { SpendMeter as SpendMeterObject } from "./spend/spend-meter-object.js";
import { TaskObject as TaskObjectClass } from "./task/task-object.js";
import { TaskIndex as TaskIndexObject } from "./task-index/task-index-object.js";
import { traceObject, traceWorker } from "./tracing/instrument-edge.js";
import type { Env } from "./env.js";
import type { TracingEnv } from "./tracing/tracing-config.js";
import { DeadLetters as DeadLettersObject } from "./webhooks/dead-letters.js";
import { WebhookSecrets as WebhookSecretsObject } from "./webhooks/webhook-secrets.js";

// The bindings as the module sees them when it loads: tracing is decided once per isolate.
const bindings = env as unknown as TracingEnv;

export const AuditLog = traceObject(AuditLogObject, bindings);
export const Dispatcher = traceObject(DispatcherObject, bindings);
export const KeyStore = traceObject(KeyStoreObject, bindings);
export const Metrics = traceObject(MetricsObject, bindings);
export const RateLimiter = traceObject(RateLimiterObject, bindings);
export const PoolRegistry = traceObject(PoolRegistryObject, bindings);
export const SpendMeter = traceObject(SpendMeterObject, bindings);
export const TaskObject = traceObject(TaskObjectClass, bindings);
export const TaskIndex = traceObject(TaskIndexObject, bindings);
export const DeadLetters = traceObject(DeadLettersObject, bindings);
export const WebhookSecrets = traceObject(WebhookSecretsObject, bindings);

const app = createApp();
export default traceWorker<Env>(app.fetch, bindings);
