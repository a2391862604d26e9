/**
 * `POST /integrations/github/webhook`: GitHub's deliveries to the App. In order, cheapest and
 * safest first: the App must be configured (404); the source address may be checked (403); the
 * body is read to at most 1 MiB (413) and its `X-Hub-Signature-256` verified in constant time
 * before a byte of it is parsed (401); then the headers (400), the JSON (400), the event. What
 * CodeForge does not act on is answered 202 `ignored` with the reason; a delivery that asks it
 * to act is handed to its conversation's object (`github/thread-object.ts`), which answers at
 * once and does the work from its alarm — GitHub gets its answer in milliseconds.
 * @module
 */
import { verify } from "@octokit/webhooks-methods";
import { GITHUB_WEBHOOK_MAX_BYTES, type GitHubWebhookAnswer } from "#api/github.js";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import { installationOf } from "../github/installation-object.js";
import { threadOf } from "../github/thread-stub.js";
import { classifyDelivery, screenEvent } from "../github/triggers.js";
import { InstallationRef, RepositoryRef, SenderRef } from "../github/webhook-payloads.js";
import { sourceAllowed } from "../github/webhook-sources.js";
import { readBody } from "../http/read-body.js";
import { openApiRoutes } from "../http/openapi-app.js";
import { requestLogger, tagRequest } from "../middleware/request-log.js";
import { clientAddress } from "../rate-limit/client-address.js";
import { githubWebhook } from "./github.routes.js";
import { methodNotAllowed } from "./method-not-allowed.js";
import { z } from "zod";

const SIGNATURE = /^sha256=[0-9a-f]{64}$/i;
/** GitHub's delivery ids are GUIDs; anything printable and short is taken. */
const DELIVERY_ID = /^[\x21-\x7e]{1,100}$/;
const EVENT_NAME = /^[a-z_]{1,64}$/;

/** What every delivery that may act must carry, read before the event-specific fields. */
const Target = z.looseObject({ installation: InstallationRef, repository: RepositoryRef, sender: SenderRef });

const invalidSignature = (message: string) => new ApiError("invalid_signature", message);

export const githubRoutes = openApiRoutes<{ Bindings: Env }>()
  .openapi(githubWebhook, async (c) => {
    const github = edgeConfig(c.env).github;
    if (!github) throw new ApiError("not_found", "the GitHub App is not configured on this edge (see docs/github.md)");
    if (github.allowedSources) {
      const address = clientAddress(c);
      if (address === null || !sourceAllowed(address, github.allowedSources)) {
        throw new ApiError("forbidden", "deliveries are not accepted from this address (GITHUB_WEBHOOK_ALLOWED_SOURCES)");
      }
    }
    const bytes = await readBody(c.req.raw, GITHUB_WEBHOOK_MAX_BYTES);
    const signature = c.req.header("x-hub-signature-256");
    if (!signature) throw invalidSignature("X-Hub-Signature-256 is missing: set the App's webhook secret");
    if (!SIGNATURE.test(signature)) throw invalidSignature("X-Hub-Signature-256 is not of the form sha256=<64 hex digits>");
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      throw invalidSignature("X-Hub-Signature-256 does not match the body");
    }
    if (text === "" || !(await verify(github.webhookSecret, text, signature))) throw invalidSignature("X-Hub-Signature-256 does not match the body");

    // Signed by GitHub from here on.
    const event = c.req.header("x-github-event") ?? "";
    const delivery = c.req.header("x-github-delivery") ?? "";
    if (!EVENT_NAME.test(event)) throw new ApiError("bad_request", "X-GitHub-Event is missing or not an event name", "X-GitHub-Event");
    if (!DELIVERY_ID.test(delivery)) throw new ApiError("bad_request", "X-GitHub-Delivery is missing or malformed", "X-GitHub-Delivery");
    tagRequest(c, { github_event: event, github_delivery: delivery });
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      throw new ApiError("invalid_json", "the delivery's body is not JSON");
    }
    const answer = (status: GitHubWebhookAnswer["status"], reason?: string) => {
      if (reason) requestLogger(c).info("github delivery ignored", { github_event: event, github_delivery: delivery, reason });
      return c.json({ status, delivery, ...(reason ? { reason } : {}) } satisfies GitHubWebhookAnswer, status === "pong" ? 200 : 202);
    };

    // Settings-free first look: what no repository's settings could make CodeForge act on.
    const screened = screenEvent(event, payload);
    if (screened?.kind === "ping") return answer("pong");
    if (screened?.kind === "invalid") throw new ApiError("validation_failed", screened.message, screened.field);
    if (screened?.kind === "ignored") return answer("ignored", screened.reason);

    const target = Target.safeParse(payload);
    if (!target.success) {
      const issue = target.error.issues[0]!;
      throw new ApiError("validation_failed", `${event} payload: ${issue.path.join(".")}: ${issue.message}`, issue.path.join("."));
    }
    const { installation, repository, sender } = target.data;
    if (sender.type === "Bot") return answer("ignored", "deliveries caused by bots (this App included) start nothing");
    const context = await installationOf(c.env, installation.id).repoContext(installation.id, {
      owner: repository.owner.login,
      name: repository.name,
      fullName: repository.full_name,
      defaultBranch: repository.default_branch,
    });
    if (context.keyId === null) {
      throw new ApiError(
        "unknown_installation",
        `installation ${installation.id} is not mapped to a CodeForge key; an admin maps it with PUT /api/v1/github/installations/${installation.id}`,
      );
    }
    const classified = classifyDelivery(event, payload, context.config);
    if (classified.kind === "invalid") throw new ApiError("validation_failed", classified.message, classified.field);
    if (classified.kind !== "act") return answer("ignored", classified.kind === "ignored" ? classified.reason : "nothing to do");
    const act = classified.act;
    tagRequest(c, { github_repository: act.repo.fullName, github_number: act.number });
    const publicUrl = github.publicUrl ?? new URL(c.req.url).origin;
    const { status } = await threadOf(c.env, act.repo.id, act.number).accept({ delivery, act, publicUrl });
    return answer(status);
  })
  .all("/integrations/github/webhook", methodNotAllowed("POST"));
