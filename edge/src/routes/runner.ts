/**
 * The runner API: lease (long poll), heartbeat, events, session, complete, release. Every request is signed
 * (see `middleware/runner-signature.ts`); every write after the lease names its lease id. A request
 * signed with a runner credential may lease only from its pool and report only on that pool's
 * tasks (403 otherwise).
 * @module
 */
import { Completion, EventBatch, Heartbeat, LeaseRequest, Release, SessionUpload } from "#api/runner-protocol.js";
import { ApiError } from "../api-error.js";
import type { RunnerSighting } from "../dispatcher/runner-store.js";
import { runnerDispatchers, STEAL_EVERY_MS } from "../dispatcher/shards.js";
import { edgeConfig, type Env } from "../env.js";
import { runnerSignature, signedJson, type RunnerVariables } from "../middleware/runner-signature.js";
import { clientAddress } from "../rate-limit/client-address.js";
import { openApiRoutes } from "../http/openapi-app.js";
import { complete, heartbeat, postEvents, release, requestLease, saveSession } from "./runner.routes.js";
import { taskStub, unwrap } from "../task-stub.js";
import { tagRequest } from "../middleware/request-log.js";
import { currentTraceparent } from "../tracing/task-span.js";

type RunnerEnv = { Bindings: Env; Variables: RunnerVariables };

const signed = openApiRoutes<RunnerEnv>();
// Before every runner route, known or not (an unsigned request learns nothing, not even a 404).
signed.use("/runner/v1/*", runnerSignature());

// Defined in `runner.routes.ts`.
export const runnerRoutes = signed
  .openapi(requestLease, async (c) => {
    const request = signedJson(c, LeaseRequest);
    tagRequest(c, { runner_id: request.runner_id });
    const scope = c.get("credentialPool");
    if (scope !== undefined && request.pool !== scope) {
      throw new ApiError("forbidden", `this runner credential is for pool "${scope}", not "${request.pool}"`, "pool");
    }
    // Its home shard first, then the pool's other shards (one, unless DISPATCHER_SHARDS says more).
    const [home, ...others] = runnerDispatchers(c.env, edgeConfig(c.env).dispatcherShards, request.pool, request.runner_id);
    const offer = { runnerId: request.runner_id, clis: request.clis, labels: request.labels };
    const sighting = {
      ...offer,
      version: request.runner_version ?? null,
      pool: request.pool,
      running: request.running,
      capacity: request.capacity,
    };
    const audit = { requestId: c.get("requestId") ?? "unknown", clientIp: clientAddress(c) };
    const deadline = Date.now() + request.wait_ms;
    const left = () => Math.max(0, deadline - Date.now());
    /** Takes from `shard` until it has nothing (a task canceled meanwhile is skipped); the lease, or null. */
    const takeFrom = async (shard: typeof home, waitMs: number, said?: { sighting: RunnerSighting; audit?: typeof audit }) => {
      for (let first = true; ; first = false) {
        const taskId = await shard!.take(offer, first ? waitMs : 0, first ? said?.sighting : undefined, first ? said?.audit : undefined);
        if (taskId === null) return null;
        const lease = await taskStub(c.env, taskId).grantLease({ runnerId: request.runner_id, requestTraceparent: currentTraceparent() });
        if (lease) {
          tagRequest(c, { task_id: taskId });
          return lease;
        }
      }
    };
    // Every shard hears of the runner (only its home audits a new one); the home shard, alone,
    // long-polls at once; with more shards, each is asked without waiting, then the home one
    // long-polls, looking at the others again every STEAL_EVERY_MS.
    let lease = await takeFrom(home, others.length === 0 ? left() : 0, { sighting, audit });
    for (const shard of others) lease ??= await takeFrom(shard, 0, { sighting });
    if (others.length > 0 && request.running < request.capacity) {
      while (!lease && left() > 0) {
        lease = await takeFrom(home, Math.min(left(), STEAL_EVERY_MS));
        for (const shard of others) lease ??= left() > 0 ? await takeFrom(shard, 0) : null;
      }
    }
    return lease ? c.json(lease, 200) : c.body(null, 204);
  })
  .openapi(heartbeat, async (c) => {
    const body = signedJson(c, Heartbeat);
    return c.json(unwrap(await taskStub(c.env, c.req.param("id")).heartbeat(body, c.get("credentialPool"))), 200);
  })
  .openapi(postEvents, async (c) => {
    const body = signedJson(c, EventBatch);
    return c.json(unwrap(await taskStub(c.env, c.req.param("id")).appendEvents(body, c.get("credentialPool"))), 200);
  })
  .openapi(saveSession, async (c) => {
    const body = signedJson(c, SessionUpload);
    return c.json(unwrap(await taskStub(c.env, c.req.param("id")).saveSession(body, c.get("credentialPool"))), 200);
  })
  .openapi(complete, async (c) => {
    const body = signedJson(c, Completion);
    return c.json(unwrap(await taskStub(c.env, c.req.param("id")).complete(body, c.get("credentialPool"))), 200);
  })
  .openapi(release, async (c) => {
    const body = signedJson(c, Release);
    return c.json(unwrap(await taskStub(c.env, c.req.param("id")).release(body, c.get("credentialPool"))), 200);
  });
