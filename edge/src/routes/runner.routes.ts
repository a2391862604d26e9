/**
 * Route definitions of the runner API, served by `runner.ts`. Every request is HMAC-signed;
 * the signature check reads the body (bounded) before anything else, and each handler parses
 * it with the contract schema the body names here. A runner holding a pool's runner credential
 * instead of the runner secret signs the same way with the credential's secret and sends its id
 * in `x-codeforge-credential` (see `api/runner-credential.ts`).
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import { TASK_ID_PATTERN } from "#api/ids.js";
import type { ComponentName } from "#api/openapi.js";
import { body, errorResponse, json } from "./openapi-parts.js";

/** Documented only: the id is checked by `taskStub` after the body, as it always was. */
const TASK_ID = { name: "id", in: "path" as const, required: true, schema: { type: "string" as const, pattern: TASK_ID_PATTERN.source } };

const common = {
  tags: ["runner"],
  security: [{ runnerSignature: [], runnerTimestamp: [] }],
};

const ERRORS = {
  400: errorResponse(
    "`invalid_json`: the body is malformed, not UTF-8, or gives a key twice in one object; `validation_failed`: a field fails the schema (`field` names it).",
  ),
  401: errorResponse("Unsigned, badly signed, a timestamp more than 5 minutes off, or an expired or malformed runner credential (`x-codeforge-credential`)."),
  403: errorResponse("`forbidden`: signed with a runner credential of another pool than the task's (or, for a lease, than `pool`)."),
  404: errorResponse("No such task."),
  409: errorResponse("`lease_stale`: the lease is no longer current; `sequence_gap`: a batch is missing."),
  413: errorResponse("The body is over 1 MiB (3 MiB for a session upload); it is read no further than that, before the signature is checked."),
  415: errorResponse("The `Content-Type` names a charset other than UTF-8, or the body has a `Content-Encoding`."),
};

const write = <Path extends string, Ok extends ComponentName>(path: Path, operationId: string, summary: string, request: ComponentName, ok: Ok) =>
  createRoute({
    method: "post",
    path,
    operationId,
    summary,
    ...common,
    parameters: [TASK_ID],
    request: { body: body(request, { required: true }) },
    responses: { 200: { description: "OK", ...json(ok) }, ...ERRORS },
  });

export const requestLease = createRoute({
  method: "post",
  path: "/runner/v1/lease",
  operationId: "lease",
  summary: "Long-poll for a task this runner can run",
  ...common,
  request: { body: body("LeaseRequest", { required: true }) },
  responses: {
    200: { description: "A lease on a task", ...json("Lease") },
    204: { description: "No task came within wait_ms, or the runner has no free slot (running ≥ capacity): then the request only said it is alive" },
    400: ERRORS[400],
    401: ERRORS[401],
    403: ERRORS[403],
    413: ERRORS[413],
    415: ERRORS[415],
  },
});

export const heartbeat = write("/runner/v1/tasks/{id}/heartbeat", "heartbeat", "Renew the lease; learn about cancel", "Heartbeat", "HeartbeatAck");
export const postEvents = write(
  "/runner/v1/tasks/{id}/events",
  "postEvents",
  "Append a batch of output (idempotent per batch_seq)",
  "EventBatch",
  "EventBatchAck",
);
export const complete = write("/runner/v1/tasks/{id}/complete", "complete", "Report the attempt's outcome", "Completion", "CompletionAck");
export const saveSession = write(
  "/runner/v1/tasks/{id}/session",
  "saveSession",
  "Keep the CLI's session for the next iteration to resume (before complete; body up to 3 MiB)",
  "SessionUpload",
  "SessionUploadAck",
);
export const release = write(
  "/runner/v1/tasks/{id}/release",
  "release",
  "Hand the task back (shutdown): re-queued at once, the attempt not counted",
  "Release",
  "ReleaseAck",
);
