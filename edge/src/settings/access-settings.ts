/**
 * Who may use the edge: the bootstrap admin key, the runners' secrets, the key for task secrets
 * at rest, local mode (development: `file://` repositories, a public task-secrets key), and the
 * console's sessions (how long one lasts, and the key material its cookies are sealed with).
 * The secrets are set with `wrangler secret put`, never in `wrangler.toml`.
 * @module
 */
import { z } from "zod";
import { booleanSetting, CommaList, numberSetting } from "#api/settings.js";
import { type ConfigOf, settingsSlice } from "./settings-slice.js";

/**
 * The task-secrets key `wrangler dev` uses when `TASK_SECRETS_KEY` is unset and
 * `CODEFORGE_LOCAL_MODE` is on. It is public (it is in this file), so it protects nothing: it
 * only lets local development accept secrets. Outside local mode there is no default.
 */
export const LOCAL_TASK_SECRETS_KEY = "codeforge-local-development-task-secrets-key-not-secret";

export const AccessSettings = settingsSlice(
  {
    /** Bootstrap admin key; unset means no client can authenticate (the API answers 401). */
    adminKey: [
      "CODEFORGE_ADMIN_KEY",
      z
        .string()
        .min(16, "CODEFORGE_ADMIN_KEY must be at least 16 characters")
        .optional()
        .transform((key) => key ?? null),
    ],
    /** Runner HMAC secrets, comma-separated; several during rotation. Empty means runners cannot connect. */
    runnerSecrets: ["RUNNER_SECRETS", CommaList.pipe(z.array(z.string().min(16, "each runner secret must be at least 16 characters"))).default([])],
    /** Development only: accept `file://` repositories, and a public task-secrets key when none is set. */
    localMode: ["CODEFORGE_LOCAL_MODE", booleanSetting(false)],
    /** Key material for task secrets at rest; null means the edge refuses tasks that carry secrets. */
    taskSecretsKey: [
      "TASK_SECRETS_KEY",
      z
        .string()
        .min(32, "TASK_SECRETS_KEY must be at least 32 characters (e.g. openssl rand -base64 32)")
        .optional()
        .transform((key) => key ?? null),
    ],
    /** How long a console session (`POST /api/v1/session`) lasts: 5 minutes to 30 days; 8 hours by default. */
    sessionTtlSeconds: ["SESSION_TTL_SECONDS", numberSetting(z.number().int().min(300).max(2_592_000).default(28_800))],
    /** Key material for sealing session cookies; null means the task-secrets key's (a separate key is derived from it). */
    sessionSecret: [
      "SESSION_SECRET",
      z
        .string()
        .min(32, "SESSION_SECRET must be at least 32 characters (e.g. openssl rand -base64 32)")
        .optional()
        .transform((key) => key ?? null),
    ],
  },
  (access) => {
    const taskSecretsKey = access.taskSecretsKey ?? (access.localMode ? LOCAL_TASK_SECRETS_KEY : null);
    // Null: no key to seal sessions with, so sign-in answers 503 and session cookies are refused.
    return { ...access, taskSecretsKey, sessionSecret: access.sessionSecret ?? taskSecretsKey };
  },
);
export type AccessConfig = ConfigOf<typeof AccessSettings>;
