/**
 * Route definitions of the admin API (`admin` scope): API keys, the audit log, the runner
 * list, runner credentials. Served by `keys.ts`, `audit.ts`, `runners.ts` and
 * `runner-credentials.ts`.
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { AuditExportQuery, AuditQuery } from "#api/audit.js";
import { ListKeysQuery } from "#api/keys.js";
import { RunnerListQuery } from "#api/runner-protocol.js";
import { BODY_ERRORS, COMMON_ERRORS, KeyIdParams, body, errorResponse, json } from "./openapi-parts.js";

const tags = ["admin"];
const ADMIN_ERRORS = {
  ...COMMON_ERRORS,
  403: errorResponse("The key lacks the admin scope, or is used from outside its allowed addresses."),
  404: errorResponse("No such key."),
};
const noStore = { "Cache-Control": { description: "`no-store`: the body carries a secret.", schema: { type: "string" as const } } };

export const createKey = createRoute({
  method: "post",
  path: "/api/v1/keys",
  operationId: "createKey",
  tags,
  summary: "Create an API key (admin)",
  description: "The answer carries the key's secret (`key`) — the only time it is shown; only its SHA-256 is stored.",
  request: {
    body: body("CreateKeyRequest", {
      required: true,
      example: { name: "ci", scopes: ["tasks:read", "tasks:write"], allowed_cidrs: ["203.0.113.0/24"], limits: { max_concurrent_tasks: 2 } },
    }),
  },
  responses: {
    201: { description: "Created; store `key` now", headers: { Location: { schema: { type: "string" } }, ...noStore }, ...json("ApiKeyWithSecret") },
    ...ADMIN_ERRORS,
    ...BODY_ERRORS,
  },
});

export const listKeys = createRoute({
  method: "get",
  path: "/api/v1/keys",
  operationId: "listKeys",
  tags,
  summary: "List API keys, newest first (admin)",
  request: { query: ListKeysQuery },
  responses: { 200: { description: "A page of keys", ...json("ApiKeyList") }, ...ADMIN_ERRORS },
});

export const getKey = createRoute({
  method: "get",
  path: "/api/v1/keys/{id}",
  operationId: "getKey",
  tags,
  summary: "Read an API key (admin)",
  description:
    "With `spend_this_month_usd`: what the key's tasks spent this calendar month (UTC) as their runners reported it, and `spend_resets_at`, when that starts again from 0.",
  request: { params: KeyIdParams },
  responses: { 200: { description: "The key", ...json("ApiKey") }, ...ADMIN_ERRORS },
});

export const rotateKey = createRoute({
  method: "post",
  path: "/api/v1/keys/{id}/rotate",
  operationId: "rotateKey",
  tags,
  summary: "Give a key a new secret (admin)",
  description: "The old secret keeps working for `overlap_seconds` (default 86400; 0 ends it at once). The body may be empty.",
  request: { params: KeyIdParams, body: body("RotateKeyRequest", { required: false }) },
  responses: {
    200: { description: "Rotated; store `key` now", headers: noStore, ...json("ApiKeyWithSecret") },
    ...ADMIN_ERRORS,
    ...BODY_ERRORS,
    409: errorResponse("The key is revoked, or has too many secrets in overlap."),
  },
});

export const revokeKey = createRoute({
  method: "post",
  path: "/api/v1/keys/{id}/revoke",
  operationId: "revokeKey",
  tags,
  summary: "Revoke a key (admin); refused everywhere within 5 seconds",
  request: { params: KeyIdParams },
  responses: { 200: { description: "Revoked", ...json("ApiKey") }, ...ADMIN_ERRORS },
});

export const listAudit = createRoute({
  method: "get",
  path: "/api/v1/audit",
  operationId: "listAudit",
  tags,
  summary: "The audit log, newest first (admin)",
  request: { query: AuditQuery },
  responses: { 200: { description: "A page of entries", ...json("AuditPage") }, ...ADMIN_ERRORS },
});

export const exportAudit = createRoute({
  method: "get",
  path: "/api/v1/audit/export",
  operationId: "exportAudit",
  tags,
  summary: "Export the audit log as NDJSON, oldest first (admin)",
  description:
    'Every entry from `since` (default: the start of the 90-day retention) to `until` (default: now), one `AuditEntry` a line, streamed. One request reads a bounded number of pages; when the range holds more, the last line is `{"next_cursor": "…"}` instead of an entry: ask again with the same range and that `cursor`.',
  request: { query: AuditExportQuery },
  responses: {
    200: { description: "NDJSON lines", content: { "application/x-ndjson": { schema: z.string() } } },
    400: COMMON_ERRORS[400],
    401: COMMON_ERRORS[401],
    403: errorResponse("The key lacks the admin scope."),
    405: COMMON_ERRORS[405],
    429: COMMON_ERRORS[429],
  },
});

export const listRunners = createRoute({
  method: "get",
  path: "/api/v1/runners",
  operationId: "listRunners",
  tags,
  summary: "Runners seen recently, across pools (admin)",
  description:
    "Each runner as of its last lease request or heartbeat, by pool then id, a page at a time; runners silent for 2 minutes are left out. Read from the pool registry, where each pool's dispatcher pushes its runners when they change, at most every `POOL_SNAPSHOT_SECONDS` (10 s): a runner's `running` and `last_seen_at` may lag that much.",
  request: { query: RunnerListQuery },
  responses: {
    200: { description: "A page of runners", ...json("RunnerList") },
    400: COMMON_ERRORS[400],
    401: COMMON_ERRORS[401],
    403: errorResponse("The key lacks the admin scope."),
    405: COMMON_ERRORS[405],
    429: COMMON_ERRORS[429],
  },
});

export const createRunnerCredential = createRoute({
  method: "post",
  path: "/api/v1/runner-credentials",
  operationId: "createRunnerCredential",
  tags,
  summary: "Mint a short-lived runner credential for one pool (admin)",
  description: [
    "The answer carries the credential (`credential`, for the runner's `CODEFORGE_RUNNER_CREDENTIAL`) — the only time it is shown; the edge stores nothing.",
    "A runner signing with it may lease only from `pool` and report only on that pool's tasks (403 otherwise) until `expires_at` (401 after).",
    "It is derived from the edge's first `RUNNER_SECRETS` entry and stops working when that secret is removed. See docs/runner-security.md.",
  ].join(" "),
  request: { body: body("CreateRunnerCredentialRequest", { required: true, example: { pool: "gpu", ttl_seconds: 3_600 } }) },
  responses: {
    201: { description: "Minted; hand `credential` to the runner now", headers: noStore, ...json("RunnerCredential") },
    400: COMMON_ERRORS[400],
    401: COMMON_ERRORS[401],
    403: errorResponse("The key lacks the admin scope, or is used from outside its allowed addresses."),
    405: COMMON_ERRORS[405],
    429: COMMON_ERRORS[429],
    ...BODY_ERRORS,
    503: errorResponse("`unavailable`: the edge has no runner secret to derive credentials from."),
  },
});
