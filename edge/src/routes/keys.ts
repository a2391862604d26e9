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
import { Hono, type Context } from "hono";
import { KEY_ID_PATTERN } from "../../../api/ids.js";
import { CreateKeyRequest, ListKeysQuery, RotateKeyRequest } from "../../../api/keys.js";
import { ApiError } from "../api-error.js";
import type { Env } from "../env.js";
import { keyCache } from "../keys/key-cache.js";
import { keyStoreOf } from "../keys/key-store-object.js";
import { spendMeterOf } from "../spend/spend-meter-object.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { audited, type AuditVariables } from "../middleware/audited.js";
import { requireScope } from "../middleware/require-scope.js";
import { methodNotAllowed } from "./method-not-allowed.js";
import { readJson, readOptionalJson, validate } from "../read-json.js";
import { unwrap } from "../task-stub.js";

type KeyEnv = { Bindings: Env; Variables: AuthVariables & AuditVariables };

/** The `:id` of the path, or a 404 without asking the store for an id that cannot exist. */
function keyId(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (!KEY_ID_PATTERN.test(id)) throw new ApiError("not_found", "key not found");
  return id;
}

const NO_STORE = { "Cache-Control": "no-store" };

export const keyRoutes = new Hono<KeyEnv>()
  .post("/", audited("key.create"), requireScope("admin"), async (c) => {
    const request = await readJson(c, CreateKeyRequest);
    if (request.expires_at !== undefined && Date.parse(request.expires_at) <= Date.now()) {
      throw new ApiError("validation_failed", "expires_at must be in the future", "expires_at");
    }
    const key = unwrap(await keyStoreOf(c.env).create({ request, createdBy: c.get("principal").keyId }));
    c.set("auditTarget", key.id);
    return c.json(key, 201, { ...NO_STORE, Location: `/api/v1/keys/${key.id}` });
  })
  .get("/", requireScope("admin"), async (c) => {
    const query = validate(c.req.query(), ListKeysQuery);
    return c.json(await keyStoreOf(c.env).list({ limit: query.limit, cursor: query.cursor === undefined ? null : Number(query.cursor) }));
  })
  // With what the key's tasks spent this month, from its spend meter (see spend/spend-meter-object.ts).
  .get("/:id", requireScope("admin"), async (c) => {
    const key = unwrap(await keyStoreOf(c.env).get(keyId(c)));
    const spend = await spendMeterOf(c.env, key.id).spend(Date.now());
    return c.json({ ...key, spend_this_month_usd: Number(spend.spentUsd.toFixed(6)), spend_resets_at: new Date(spend.resetsAt).toISOString() });
  })
  .post("/:id/rotate", audited("key.rotate", (c) => c.req.param("id")), requireScope("admin"), async (c) => {
    const id = keyId(c);
    const body = await readOptionalJson(c, RotateKeyRequest);
    const key = unwrap(await keyStoreOf(c.env).rotate({ id, overlapMs: body.overlap_seconds * 1_000 }));
    keyCache.forgetKey(id);
    return c.json(key, 200, NO_STORE);
  })
  .post("/:id/revoke", audited("key.revoke", (c) => c.req.param("id")), requireScope("admin"), async (c) => {
    const id = keyId(c);
    const key = unwrap(await keyStoreOf(c.env).revoke(id));
    keyCache.forgetKey(id);
    return c.json(key);
  })
  .all("/", methodNotAllowed("GET, POST"))
  .all("/:id", methodNotAllowed("GET"))
  .all("/:id/rotate", methodNotAllowed("POST"))
  .all("/:id/revoke", methodNotAllowed("POST"));
