/**
 * A task's write-only secrets (`access_token`, `env`): split off the request before anything
 * is stored, sealed for the task's row, opened only for the lease.
 *
 * The request minus its secrets (`PublicTaskSpec`) is what the task stores as its spec and shows
 * back; what clients may know about the secrets is their `SecretSummary`: whether a token was
 * given and the names of the env variables, never a value.
 * @module
 */
import type { CreateTaskRequest } from "#api/task-request.js";
import type { SecretBox } from "./secret-box.js";

/** The request as stored and shown: everything but the secrets. */
export type PublicTaskSpec = Omit<CreateTaskRequest, "access_token" | "env">;

/** The secrets as the lease hands them to the runner. */
export interface TaskSecrets {
  access_token: string | null;
  env: Record<string, string>;
}

/** What a task shows about its secrets. */
export interface SecretSummary {
  hasAccessToken: boolean;
  envNames: string[];
}

export const NO_SECRETS: SecretSummary = { hasAccessToken: false, envNames: [] };

/** Splits a create request into its public spec and its secrets (null when it has none). */
export function splitSecrets(request: CreateTaskRequest): { spec: PublicTaskSpec; secrets: TaskSecrets | null } {
  const { access_token, env, ...spec } = request;
  const hasEnv = env !== undefined && Object.keys(env).length > 0;
  if (access_token === undefined && !hasEnv) return { spec, secrets: null };
  return { spec, secrets: { access_token: access_token ?? null, env: env ?? {} } };
}

/**
 * Why a follow-up's secrets do not do for its iteration, or null when they do. The previous
 * iteration's secrets were erased when it ended, so a follow-up brings them again: the token if
 * there was one, and every env variable there was (it may add more).
 */
export function followUpSecretsProblem(previous: SecretSummary, next: TaskSecrets | null): { field: string; message: string } | null {
  if (previous.hasAccessToken && !next?.access_token) {
    return { field: "access_token", message: "this task was run with an access_token, erased when its iteration ended; send it again with the follow-up" };
  }
  const missing = previous.envNames.filter((name) => !(next && name in next.env));
  if (missing.length) {
    return { field: "env", message: `this task was run with env ${missing.join(", ")}, erased when its iteration ended; send them again with the follow-up` };
  }
  return null;
}

export function summarize(secrets: TaskSecrets | null): SecretSummary {
  if (!secrets) return NO_SECRETS;
  return { hasAccessToken: secrets.access_token !== null, envNames: Object.keys(secrets.env).sort() };
}

/** Seals the secrets of task `taskId` for its row. */
export function sealSecrets(box: SecretBox, taskId: string, secrets: TaskSecrets): Promise<string> {
  return box.seal(JSON.stringify(secrets), taskId);
}

/** Opens what `sealSecrets` sealed for the same task; throws when the key or task differ. */
export async function openSecrets(box: SecretBox, taskId: string, sealed: string): Promise<TaskSecrets> {
  return JSON.parse(await box.open(sealed, taskId)) as TaskSecrets;
}
