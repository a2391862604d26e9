/**
 * The shapes of the task object's RPC surface that the Worker's routes share with it: the
 * outcome every method answers with, who is asking, and what a follow-up hands over.
 * @module
 */
import type { ErrorCode } from "#api/errors.js";
import type { SpendRefusal } from "../spend/spend-limit.js";
import type { PublicTaskSpec, TaskSecrets } from "./task-secrets.js";

/** Result of an RPC call: typed values or a contract error code (and the field at fault), never a thrown error. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; field?: string };

/** The refusal part of an `Outcome`. */
export type Refusal = Extract<Outcome<never>, { ok: false }>;

/** Who is asking; a task is visible to its owner and to admins only. */
export interface Viewer {
  owner: string;
  admin: boolean;
}

/** Internal header the Worker uses to tell the object who opens a stream. */
export const VIEWER_HEADER = "x-codeforge-viewer";

export const notFound = { ok: false, code: "not_found", message: "task not found" } as const;

/** A new task as the Worker hands it over: the request without its secrets, and them apart. */
export interface CreateInput {
  id: string;
  owner: string;
  requestHash: string;
  spec: PublicTaskSpec;
  /** Write-only secrets, sealed here before anything is stored. */
  secrets: TaskSecrets | null;
  /** The owner key's `max_concurrent_tasks`, enforced by the dispatcher. */
  maxConcurrent?: number | null;
  /** The task's trace: the creating request's span (see `tracing/task-span.ts`). */
  traceparent?: string;
}

/** A follow-up as the Worker hands it over: the request without its secrets, and them apart. */
export interface FollowUpInput {
  prompt: string;
  model?: string;
  timeoutSeconds?: number;
  stallTimeoutSeconds?: number;
  /** The new iteration's budget; each one absent keeps the previous iteration's. */
  maxCostUsd?: number;
  maxTokens?: number;
  maxTurns?: number;
  /** Write-only secrets for this iteration, sealed here before anything is stored. */
  secrets: TaskSecrets | null;
  idempotencyKey: string | null;
  /** Fingerprint of the request, to tell a retry from another follow-up under the same key. */
  requestHash: string | null;
  /** The calling key's `max_queued_tasks`, if it has one: the new iteration queues like a new task. */
  maxQueued?: number;
  /** Set when the calling key has reached its monthly spend limit: refused unless a retry. */
  spendRefusal?: SpendRefusal | null;
}
