/**
 * The task API's route definitions: method, path, inputs and every answer, for `tasks.ts` to
 * serve with `app.openapi(...)` and for the OpenAPI document (`npm run openapi`).
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import { STREAM_FRAME_MAX_EVENTS } from "#api/limits.js";
import { EXAMPLE_TASK, EXAMPLE_TASK_REQUEST } from "#api/openapi-examples.js";
import { Task } from "#api/task.js";
import { EventsQuery, StreamQuery, TaskListQuery } from "#api/task-queries.js";
import {
  BODY_ERRORS,
  COMMON_ERRORS,
  IDEMPOTENCY_KEY_HEADER,
  RATE_LIMIT_HEADERS,
  REQUEST_ID_HEADER,
  TaskIdParams,
  body,
  errorResponse,
  json,
  rateLimited,
  ref,
} from "./openapi-parts.js";

const tags = ["tasks"];

const spendLimit = (rest: string) => errorResponse(`\`spend_limit_reached\`: the key's tasks have spent its \`monthly_spend_usd\` this month (UTC); ${rest}`);

export const createTask = createRoute({
  method: "post",
  path: "/api/v1/tasks",
  operationId: "createTask",
  tags,
  summary: "Submit a task",
  description:
    "Unknown fields are refused. With `Idempotency-Key`, the same key and body return the same task (200, `Idempotent-Replayed: true`); another body with the same key is a 409.",
  parameters: [IDEMPOTENCY_KEY_HEADER],
  request: { body: body("CreateTaskRequest", { required: true, example: EXAMPLE_TASK_REQUEST }) },
  responses: {
    201: { description: "Created", headers: { Location: { schema: { type: "string" } }, ...REQUEST_ID_HEADER, ...RATE_LIMIT_HEADERS }, ...json("Task") },
    200: { description: "The task this Idempotency-Key created before", ...json("Task") },
    ...COMMON_ERRORS,
    402: spendLimit(
      "the message gives the spend, the limit and when the month ends. Nothing was created. A retry (same Idempotency-Key) of a task made before is still answered.",
    ),
    409: errorResponse("The Idempotency-Key was used with another body."),
    429: rateLimited(
      "A rate limit was reached, this client IP is blocked after repeated authentication failures, or the key already has `max_queued_tasks` tasks queued in the pool. `Retry-After` (for rate limits) says when to try again.",
    ),
    ...BODY_ERRORS,
    503: errorResponse("The rate-limit backend is unreachable; task creation fails closed. Retry after `Retry-After`."),
  },
});

export const listTasks = createRoute({
  method: "get",
  path: "/api/v1/tasks",
  operationId: "listTasks",
  tags,
  summary: "List your tasks, newest first (an admin's: everyone's)",
  description:
    "Summaries from the task index, which hears of a new task moments after its creation is answered and follows each status change within moments; `links.self` has the whole task. Page with `limit` and the `next_cursor` of the previous page; filter with `status`. An admin key lists every key's tasks, or one key's with `owner`; another key may name only itself as `owner` (403 otherwise).",
  request: { query: TaskListQuery },
  responses: {
    200: { description: "A page of tasks", ...json("TaskList") },
    400: COMMON_ERRORS[400],
    401: COMMON_ERRORS[401],
    403: errorResponse("The key lacks `tasks:read`, or names another key as `owner` without the admin scope."),
    405: COMMON_ERRORS[405],
    429: COMMON_ERRORS[429],
  },
});

export const getTask = createRoute({
  method: "get",
  path: "/api/v1/tasks/{id}",
  operationId: "getTask",
  tags,
  summary: "Read a task: status, timestamps, attempt, runner, result",
  request: { params: TaskIdParams },
  // Parsed, so the example shows every field as the edge answers it (defaults filled in).
  responses: { 200: { description: "The task", ...json("Task", Task.parse(EXAMPLE_TASK)) }, ...COMMON_ERRORS },
});

export const listTaskEvents = createRoute({
  method: "get",
  path: "/api/v1/tasks/{id}/events",
  operationId: "listTaskEvents",
  tags,
  summary: "The task's event log, paged",
  request: { params: TaskIdParams, query: EventsQuery },
  responses: { 200: { description: "A page of events after `since`", ...json("EventsPage") }, ...COMMON_ERRORS },
});

/** The `Last-Event-ID` an SSE client sends back when it reconnects. */
const LAST_EVENT_ID_HEADER = {
  name: "Last-Event-ID",
  in: "header" as const,
  required: false,
  description:
    "Server-Sent Events only: the `id` (the `seq`) of the last event received; the stream resumes exactly after it and takes precedence over `since`. Not a non-negative integer: 400 `validation_failed` naming it.",
  schema: { type: "string" as const, pattern: "^[0-9]+$" },
};

export const streamTask = createRoute({
  method: "get",
  path: "/api/v1/tasks/{id}/stream",
  operationId: "streamTask",
  tags,
  summary: "Watch a task live (WebSocket or Server-Sent Events)",
  description:
    "Two transports on one URL, both replaying the events after `since` and then following the live tail. **WebSocket**: upgrade (`Connection: Upgrade`, `Upgrade: websocket`). Every message is a `StreamFrame`: a JSON array of `StreamEvent`s, each with its own `seq` — the events the task appended together (a runner's batch, a status change with its events), or a slice of the replay (at most 1,000 events). When the task ends the server closes with code 1000. Send `ping` for `pong`. **Server-Sent Events**: a plain GET whose `Accept` includes `text/event-stream` (what `EventSource` sends). Each event is `id: <seq>`, `event: <type>` (`output`, `status`, `result`, …) and one `data:` line, the `StreamEvent` as JSON; `Last-Event-ID` (sent by `EventSource` when it reconnects) resumes exactly after that seq. A `: heartbeat` comment is sent every 15 s (`STREAM_SSE_HEARTBEAT_SECONDS`). The response ends after the last event of an ended task; a request for an ended task with nothing after its `since` is a 204, which stops `EventSource` from reconnecting. Both transports count towards the task's watcher cap. A request that is neither an upgrade nor accepts `text/event-stream` is a 426.",
  parameters: [LAST_EVENT_ID_HEADER],
  request: { params: TaskIdParams, query: StreamQuery },
  responses: {
    101: {
      description: "Switching protocols; each message is a frame: a JSON array of StreamEvents, as a JSON text",
      content: { "application/json": { schema: { type: "array", items: ref("StreamEvent"), minItems: 1, maxItems: STREAM_FRAME_MAX_EVENTS } } },
    },
    200: {
      description:
        "An event stream (`Cache-Control: no-store`, `X-Accel-Buffering: no`): for each event `id: <seq>`, `event: <type>`, `data: <StreamEvent JSON>`, a blank line; `: heartbeat` comment lines between them while idle. It ends after the last event of an ended task.",
      content: {
        "text/event-stream": {
          schema: { type: "string", description: "`text/event-stream` text; each event's `data` is a StreamEvent" },
          example:
            'id: 4\nevent: output\ndata: {"seq":4,"ts":"2026-01-05T10:00:02.000Z","iteration":1,"attempt":1,"type":"output","stream":"stdout","text":"hello\\n","offset":0}\n\n: heartbeat\n\n',
        },
      },
    },
    204: { description: "Server-Sent Events: the task has ended and has no event after `since`/`Last-Event-ID`; nothing more will come." },
    426: {
      description: "Neither a WebSocket upgrade nor a request accepting `text/event-stream`; `Upgrade: websocket` says what to send.",
      headers: { Upgrade: { schema: { type: "string" } } },
      ...json("Error"),
    },
    503: errorResponse("The task has as many watchers as it allows; retry after `Retry-After`."),
    ...COMMON_ERRORS,
  },
});

export const cancelTask = createRoute({
  method: "post",
  path: "/api/v1/tasks/{id}/cancel",
  operationId: "cancelTask",
  tags,
  summary: "Cancel a task",
  description: "A queued task ends at once (200). A leased or running task answers 202 with `cancel_requested`; its runner stops the CLI within seconds.",
  request: { params: TaskIdParams },
  responses: {
    200: { description: "Canceled", ...json("Task") },
    202: { description: "Cancel requested", ...json("Task") },
    ...COMMON_ERRORS,
    409: errorResponse("The task already ended."),
  },
});

export const followUpTask = createRoute({
  method: "post",
  path: "/api/v1/tasks/{id}/instructions",
  operationId: "followUpTask",
  tags,
  summary: "Give an ended task a follow-up (its next iteration)",
  description:
    "Starts iteration n+1 of a task that has ended (any of succeeded, failed, timed_out, canceled), queued for any free runner. It starts from what the task's newest result left: the branch it pushed (at the pushed commit), else its patch applied to the commit the task started from; patches stay cumulative against that commit. The task's `status`, `result`, `error`, `attempt`, `prompt` and times then describe the new iteration; `iterations` lists every one, and the log marks the start of each with an `iteration` event. Fields left out keep the previous iteration's values. Secrets were erased when the previous iteration ended: send `access_token` again if it had one, and `env` with at least the names it had. With `Idempotency-Key`, a retry with the same body answers the iteration it started (200, `Idempotent-Replayed: true`); another body under the key is a 409.",
  parameters: [IDEMPOTENCY_KEY_HEADER],
  request: { params: TaskIdParams, body: body("FollowUpRequest", { required: true, example: { prompt: "Now add a test for the fix" } }) },
  responses: {
    202: { description: "The task, its new iteration queued", ...json("Task") },
    200: { description: "The iteration this Idempotency-Key started before", ...json("Task") },
    ...COMMON_ERRORS,
    402: spendLimit("the task stays as it was. A retry (same Idempotency-Key) of a follow-up accepted before is still answered."),
    409: errorResponse(
      "`invalid_state`: the task has not ended, has had as many iterations as a task may (20), or its last patch was cut at the size cap with nothing pushed (submit with `push: true` to build on a branch). `patch_masked`: one of the task's secrets was masked in its last patch and nothing was pushed, so there is nothing true to build on (submit a new task). `idempotency_conflict`: the Idempotency-Key was used with another body.",
    ),
    ...BODY_ERRORS,
    429: rateLimited(
      "The `tasks` rate limit (a follow-up counts like a submission) or another limit was reached, or the key already has `max_queued_tasks` tasks queued in the task's pool. `Retry-After` (for rate limits) says when to try again.",
    ),
  },
});
