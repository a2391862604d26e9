/**
 * The Worker's bindings and its configuration, parsed once per isolate with zod.
 *
 * Nothing else reads `env` vars as untyped strings: routes and objects receive `EdgeConfig`.
 * @module
 */
import { z } from "zod";
import { OUTPUT_MAX_BYTES_DEFAULT } from "../../api/limits.js";
import type { AuditLog } from "./audit/audit-log-object.js";
import type { Dispatcher } from "./dispatcher/dispatcher.js";
import type { KeyStore } from "./keys/key-store-object.js";
import type { TaskObject } from "./task/task-object.js";

export interface Env {
  TASKS: DurableObjectNamespace<TaskObject>;
  DISPATCHERS: DurableObjectNamespace<Dispatcher>;
  CODEFORGE_ADMIN_KEY?: string;
  RUNNER_SECRETS?: string;
  CODEFORGE_LOCAL_MODE?: string;
  LEASE_TTL_SECONDS?: string;
  HEARTBEAT_INTERVAL_SECONDS?: string;
  OUTPUT_MAX_BYTES?: string;
  KEYS: DurableObjectNamespace<KeyStore>;
  AUDIT: DurableObjectNamespace<AuditLog>;
  CORS_ALLOWED_ORIGINS?: string;
}

const flag = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");

const EdgeConfigSchema = z.object({
  CODEFORGE_ADMIN_KEY: z.string().min(16, "CODEFORGE_ADMIN_KEY must be at least 16 characters").optional(),
  RUNNER_SECRETS: z
    .string()
    .optional()
    .transform((s) => (s ?? "").split(",").map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(16, "each runner secret must be at least 16 characters"))),
  CODEFORGE_LOCAL_MODE: flag,
  LEASE_TTL_SECONDS: z.coerce.number().int().min(5).max(3_600).default(30),
  HEARTBEAT_INTERVAL_SECONDS: z.coerce.number().min(0.5).max(600).default(2),
  OUTPUT_MAX_BYTES: z.coerce.number().int().min(65_536).default(OUTPUT_MAX_BYTES_DEFAULT),
  CORS_ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((s) => (s ?? "").split(",").map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/, "each CORS origin is scheme://host[:port], with no path or trailing slash"))),
});

export interface EdgeConfig {
  /** Bootstrap admin key; unset means no client can authenticate (the API answers 401). */
  adminKey: string | null;
  /** Runner HMAC secrets; several during rotation. Empty means runners cannot connect. */
  runnerSecrets: string[];
  localMode: boolean;
  leaseTtlMs: number;
  heartbeatIntervalMs: number;
  outputMaxBytes: number;
  /** Browser origins allowed to call the API (CORS); empty means none. */
  corsAllowedOrigins: string[];
}

const cache = new WeakMap<object, EdgeConfig>();

/** Parses the bindings once per `env` object; throws with every bad setting named. */
export function edgeConfig(env: Env): EdgeConfig {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = EdgeConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid CodeForge edge configuration: ${problems}`);
  }
  const c = parsed.data;
  const config: EdgeConfig = {
    adminKey: c.CODEFORGE_ADMIN_KEY ?? null,
    runnerSecrets: c.RUNNER_SECRETS,
    localMode: c.CODEFORGE_LOCAL_MODE,
    leaseTtlMs: c.LEASE_TTL_SECONDS * 1_000,
    heartbeatIntervalMs: Math.round(c.HEARTBEAT_INTERVAL_SECONDS * 1_000),
    outputMaxBytes: c.OUTPUT_MAX_BYTES,
    corsAllowedOrigins: c.CORS_ALLOWED_ORIGINS,
  };
  cache.set(env, config);
  return config;
}
