/**
 * Who may use the edge: the bootstrap admin key, the runners' secrets, the key for task secrets
 * at rest, and local mode (development: `file://` repositories, a public task-secrets key).
 * The secrets are set with `wrangler secret put`, never in `wrangler.toml`.
 * @module
 */
import { z } from "zod";
import { booleanSetting, CommaList } from "#api/settings.js";
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
  },
  (access) => ({ ...access, taskSecretsKey: access.taskSecretsKey ?? (access.localMode ? LOCAL_TASK_SECRETS_KEY : null) }),
);
export type AccessConfig = ConfigOf<typeof AccessSettings>;
