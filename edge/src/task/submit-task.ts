/**
 * Submitting a task on behalf of a principal: every check the API makes before anything is
 * written (sealable secrets, the repository's URL, a push's token, the callback URL, the key's
 * monthly spend and queued-task limits), then the new task object and its dispatcher. The
 * public API's `POST /api/v1/tasks` and the GitHub App (`github/`) both submit through here, so
 * a task started from an issue comment meets the same rules and limits as one from the API.
 * @module
 */
import { idempotentTaskId, newTaskId } from "#api/ids.js";
import { checkCallbackUrl } from "#api/callback-url.js";
import { checkRepoUrl } from "#api/repo-url.js";
import { sha256Hex } from "#api/signing.js";
import type { Task } from "#api/task.js";
import type { CreateTaskRequest, FollowUpRequest } from "#api/task-request.js";
import { ApiError } from "../api-error.js";
import { canonicalJson } from "../canonical-json.js";
import { ownerDispatcher } from "../dispatcher/shards.js";
import { edgeConfig, type Env } from "../env.js";
import type { Principal } from "../keys/principal.js";
import { checkSpendLimit } from "../spend/spend-limit.js";
import { taskStub, unwrap } from "../task-stub.js";
import { newTaskTraceparent } from "../tracing/task-span.js";
import { secretBox } from "./secret-box.js";
import type { Viewer } from "./task-rpc.js";
import { splitSecrets, type TaskSecrets } from "./task-secrets.js";

export const viewerOf = (p: Principal): Viewer => ({ owner: p.owner, admin: p.admin });

/**
 * A fingerprint of a request for its Idempotency-Key: keyed (HMAC) when it carries secrets, so
 * the stored hash gives no token away; a different token makes a different request.
 */
export async function requestFingerprint(request: unknown, secrets: TaskSecrets | null, taskSecretsKey: string | null): Promise<string> {
  const canonical = canonicalJson(request);
  return secrets ? `hmac:${await (await secretBox(taskSecretsKey!)).fingerprint(canonical)}` : await sha256Hex(canonical);
}

/**
 * The create request as its Idempotency-Key fingerprint covers it. Fields added since
 * fingerprints were first stored are left out while they hold their default (`push: false`,
 * `autonomy: "full"`), so a retry keeps the fingerprint it had before they existed; any other
 * value, and `egress_allow` whenever it is given (an empty list allows no host), is part of it.
 */
function fingerprinted(request: CreateTaskRequest): Partial<CreateTaskRequest> {
  const { push, autonomy, ...rest } = request;
  return { ...rest, ...(push ? { push } : {}), ...(autonomy === "full" ? {} : { autonomy }) };
}

/** Refuses secrets this edge cannot seal (it has no TASK_SECRETS_KEY). */
export function requireSealable(secrets: TaskSecrets | null, taskSecretsKey: string | null): void {
  if (secrets && taskSecretsKey === null) {
    const field = secrets.access_token !== null ? "access_token" : "env";
    throw new ApiError("validation_failed", `this edge cannot accept ${field}: its operator has not set TASK_SECRETS_KEY`, field);
  }
}

export interface Submitted {
  created: boolean;
  task: Task;
  /** The root of the task's trace (this submission's span). */
  traceparent: string;
}

/**
 * Checks `request` and creates the task for `principal` (or, for a retry with the same
 * idempotency key and body, answers the task it made). Throws `ApiError` for what it refuses;
 * nothing is written then. `onId` hears the task's id as soon as it is known (for logs).
 */
export async function submitTask(
  env: Env,
  principal: Principal,
  request: CreateTaskRequest,
  options: { idempotencyKey?: string; onId?: (id: string) => void } = {},
): Promise<Submitted> {
  const { spec, secrets } = splitSecrets(request);
  const config = edgeConfig(env);
  // Secrets are only ever stored sealed: without a key to seal them, refuse them.
  requireSealable(secrets, config.taskSecretsKey);
  const repo = checkRepoUrl(spec.repo.url, { allowFile: config.localMode, allowSsh: true });
  if (!repo.ok) throw new ApiError("validation_failed", repo.reason, "repo.url");
  // A push needs write access: a token, or a local repository that needs none.
  if (spec.push && !secrets?.access_token && repo.scheme !== "file") {
    throw new ApiError(
      "validation_failed",
      "push: true needs an access_token that may write to the repository (only file:// repositories, accepted in local mode, can be pushed to without one)",
      "access_token",
    );
  }
  if (spec.callback_url !== undefined) {
    const callback = checkCallbackUrl(spec.callback_url, { allowLocal: config.webhooks.allowLocal });
    if (!callback.ok) throw new ApiError("validation_failed", callback.reason, "callback_url");
    spec.callback_url = callback.url;
  }

  const { idempotencyKey } = options;
  const id = idempotencyKey ? await idempotentTaskId(principal.owner, idempotencyKey) : newTaskId();
  options.onId?.(id);
  const requestHash = idempotencyKey ? await requestFingerprint(fingerprinted(request), secrets, config.taskSecretsKey) : "";

  const stub = taskStub(env, id);
  const isRetry = async () => idempotencyKey !== undefined && (await stub.view(viewerOf(principal))).ok;
  // Before anything is written: a key past its monthly spend limit submits nothing. A retry
  // of a task this key already made is answered as before, limit reached or not.
  const spendRefused = await checkSpendLimit(env, principal, Date.now());
  if (spendRefused && !(await isRetry())) throw new ApiError(spendRefused.code, spendRefused.message);
  const maxQueued = principal.limits?.max_queued_tasks;
  if (maxQueued !== undefined) {
    const dispatcher = ownerDispatcher(env, config.dispatcherShards, spec.pool, principal.owner);
    const admitted = await dispatcher.admit({ taskId: id, keyId: principal.owner, maxQueued });
    // A retry of a task this key already made is answered as before, full queue or not.
    if (!admitted && !(await isRetry())) {
      throw new ApiError(
        "rate_limited",
        `this API key already has ${maxQueued} tasks queued in pool '${spec.pool}' (its max_queued_tasks); wait for some to start`,
      );
    }
  }

  const maxConcurrent = principal.limits?.max_concurrent_tasks ?? null;
  // This submission's span is the task's root; a client's `traceparent` is only a link on it.
  const traceparent = newTaskTraceparent();
  const { created, task } = unwrap(await stub.create({ id, owner: principal.owner, requestHash, spec, secrets, maxConcurrent, traceparent }));
  return { created, task, traceparent };
}

/**
 * Gives task `taskId` a follow-up for `principal` (`POST /api/v1/tasks/:id/instructions`, or a
 * review comment on a pull request the GitHub App opened). Throws `ApiError` for what it refuses.
 */
export async function submitFollowUp(
  env: Env,
  principal: Principal,
  taskId: string,
  request: FollowUpRequest,
  options: { idempotencyKey?: string } = {},
): Promise<{ created: boolean; task: Task }> {
  const { access_token, env: taskEnv, ...rest } = request;
  const hasEnv = taskEnv !== undefined && Object.keys(taskEnv).length > 0;
  const secrets: TaskSecrets | null = access_token === undefined && !hasEnv ? null : { access_token: access_token ?? null, env: taskEnv ?? {} };
  const { taskSecretsKey } = edgeConfig(env);
  requireSealable(secrets, taskSecretsKey);
  const { idempotencyKey } = options;
  const requestHash = idempotencyKey ? await requestFingerprint(request, secrets, taskSecretsKey) : null;
  return unwrap(
    await taskStub(env, taskId).followUp(viewerOf(principal), {
      prompt: rest.prompt,
      model: rest.model,
      timeoutSeconds: rest.timeout_seconds,
      stallTimeoutSeconds: rest.stall_timeout_seconds,
      maxCostUsd: rest.max_cost_usd,
      maxTokens: rest.max_tokens,
      maxTurns: rest.max_turns,
      secrets,
      idempotencyKey: idempotencyKey ?? null,
      requestHash,
      maxQueued: principal.limits?.max_queued_tasks,
      // Decided by the object after it checked for a retry, which is answered as before.
      spendRefusal: await checkSpendLimit(env, principal, Date.now()),
    }),
  );
}
