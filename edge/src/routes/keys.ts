/**
 * The key API (`admin` scope): create, list, read, rotate, revoke. Each handler validates,
 * calls one key-store method (read also asks the key's spend meter for this month's spend) and
 * answers typed JSON; state changes are audited.
 *
 * Create and rotate are the only answers that carry a secret; they are marked `no-store`.
 * Revoke and rotate also drop the key from this isolate's auth cache at once; other isolates
 * notice within `KEY_CACHE_TTL_MS`.
 * @module
 */
import { newKeyId } from "#api/ids.js";
import { CreateKeyRequest, RotateKeyRequest } from "#api/keys.js";
import { ApiError } from "../api-error.js";
import type { Env } from "../env.js";
import { bodyOf, jsonBody } from "../http/json-body.js";
import { openApiRoutes } from "../http/openapi-app.js";
import { keyCache } from "../keys/key-cache.js";
import { listKeysAcrossShards } from "../keys/key-list.js";
import { keyStoreOf } from "../keys/key-shards.js";
import { spendMeterOf } from "../spend/spend-meter-object.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { audited, type AuditVariables } from "../middleware/audited.js";
import { requireScope } from "../middleware/require-scope.js";
import { methodNotAllowed } from "./method-not-allowed.js";
import { unwrap } from "../task-stub.js";
import { KeyIdParams } from "./openapi-parts.js";
import { createKey, getKey, listKeys, revokeKey, rotateKey } from "./admin.routes.js";

type KeyEnv = { Bindings: Env; Variables: AuthVariables & AuditVariables };

const NO_STORE = { "Cache-Control": "no-store" };

// A key id that cannot exist is a 404 without asking the store (see `KeyIdParams`).
export const keyRoutes = openApiRoutes<KeyEnv>()
  .openapi({ ...createKey, middleware: [audited("key.create"), requireScope("admin"), jsonBody(CreateKeyRequest)] as const }, async (c) => {
    const request = bodyOf(c, CreateKeyRequest);
    if (request.expires_at !== undefined && Date.parse(request.expires_at) <= Date.now()) {
      throw new ApiError("validation_failed", "expires_at must be in the future", "expires_at");
    }
    const id = newKeyId();
    const key = unwrap(await keyStoreOf(c.env, id).create({ id, request, createdBy: c.get("principal").keyId }));
    c.set("auditTarget", key.id);
    return c.json(key, 201, { ...NO_STORE, Location: `/api/v1/keys/${key.id}` });
  })
  .openapi({ ...listKeys, middleware: [requireScope("admin")] as const }, async (c) => {
    const query = c.req.valid("query");
    return c.json(await listKeysAcrossShards(c.env, query), 200);
  })
  // With what the key's tasks spent this month, from its spend meter (see spend/spend-meter-object.ts).
  .openapi({ ...getKey, middleware: [requireScope("admin")] as const }, async (c) => {
    const { id } = c.req.valid("param");
    const key = unwrap(await keyStoreOf(c.env, id).get(id));
    const spend = await spendMeterOf(c.env, key.id).spend(Date.now());
    return c.json({ ...key, spend_this_month_usd: Number(spend.spentUsd.toFixed(6)), spend_resets_at: new Date(spend.resetsAt).toISOString() }, 200);
  })
  .openapi(
    {
      ...rotateKey,
      middleware: [
        audited("key.rotate", (c) => c.req.param("id")),
        requireScope("admin"),
        jsonBody(RotateKeyRequest, { optional: true, params: KeyIdParams }),
      ] as const,
    },
    async (c) => {
      const { id } = c.req.valid("param");
      const body = bodyOf(c, RotateKeyRequest);
      const key = unwrap(await keyStoreOf(c.env, id).rotate({ id, overlapMs: body.overlap_seconds * 1_000 }));
      keyCache.forgetKey(id);
      return c.json(key, 200, NO_STORE);
    },
  )
  .openapi({ ...revokeKey, middleware: [audited("key.revoke", (c) => c.req.param("id")), requireScope("admin")] as const }, async (c) => {
    const { id } = c.req.valid("param");
    const key = unwrap(await keyStoreOf(c.env, id).revoke(id));
    keyCache.forgetKey(id);
    return c.json(key, 200);
  })
  .all("/api/v1/keys", methodNotAllowed("GET, POST"))
  .all("/api/v1/keys/:id", methodNotAllowed("GET"))
  .all("/api/v1/keys/:id/rotate", methodNotAllowed("POST"))
  .all("/api/v1/keys/:id/revoke", methodNotAllowed("POST"));
