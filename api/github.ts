/**
 * The GitHub App's contract: what `POST /integrations/github/webhook` answers GitHub, and the
 * admin API that maps an installation of the App to the CodeForge key its tasks belong to.
 * See docs/github.md.
 * @module
 */
import { z } from "zod";
import { KeyId } from "./keys.js";

/** Deliveries larger than this are refused (413) before their signature is checked. */
export const GITHUB_WEBHOOK_MAX_BYTES = 1_048_576;

/**
 * What a delivery came to: `accepted` (work queued: a task starts or is steered within
 * seconds), `duplicate` (this `X-GitHub-Delivery` was accepted before; nothing new starts),
 * `ignored` (an event, action or comment CodeForge does not act on; `reason` says which) or
 * `pong` (GitHub's `ping`).
 */
export const GitHubWebhookAnswer = z.object({
  status: z.enum(["accepted", "duplicate", "ignored", "pong"]),
  /** The `X-GitHub-Delivery` the answer is about. */
  delivery: z.string(),
  reason: z.string().optional(),
});
export type GitHubWebhookAnswer = z.infer<typeof GitHubWebhookAnswer>;

/**
 * A delivery's body as GitHub sends it (`issue_comment`, `issues`, `pull_request_review`,
 * `pull_request_review_comment`, `ping`, …): checked against `X-Hub-Signature-256` before it is
 * parsed; the fields CodeForge reads are checked after.
 */
export const GitHubWebhookPayload = z.looseObject({}).describe("A GitHub webhook payload, as GitHub documents it for the event named by X-GitHub-Event.");

/** `PUT /api/v1/github/installations/{installation_id}`. */
export const LinkGitHubInstallationRequest = z.strictObject({
  /** The key whose limits the installation's tasks count against, and who owns them (it needs `tasks:write`). */
  key_id: KeyId,
});
export type LinkGitHubInstallationRequest = z.infer<typeof LinkGitHubInstallationRequest>;

export const GitHubInstallationLink = z.object({
  installation_id: z.number().int().positive(),
  key_id: z.string(),
  /** The admin key that made the mapping. */
  linked_by: z.string(),
  linked_at: z.string(),
});
export type GitHubInstallationLink = z.infer<typeof GitHubInstallationLink>;
