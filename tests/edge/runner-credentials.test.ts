/**
 * Integration: runner credentials scoped to a pool. An admin mints one
 * (`POST /api/v1/runner-credentials`); a runner signing with it may lease only from its pool and
 * report only on its pool's tasks (403 otherwise), until it expires (401). Its secret is
 * derived from a runner secret, so a changed id, a foreign secret or the derived secret used
 * as a runner secret never verifies.
 */
import { describe, expect, it } from "vitest";
import { AuditPage } from "#api/audit.js";
import { CREDENTIAL_HEADER, mintRunnerCredential, parseRunnerCredential, RunnerCredential } from "#api/runner-credential.js";
import { apiFetch, createTask, expectError, uniquePool } from "./api-client.js";
import { TEST_RUNNER_SECRETS } from "./credentials.js";
import { createKey } from "./key-client.js";
import { outputEvents, runnerPost, takeLease } from "./runner-client.js";

async function mint(input: unknown): Promise<Response> {
  return apiFetch("/api/v1/runner-credentials", { json: input });
}

async function minted(pool: string, ttl_seconds = 600): Promise<RunnerCredential> {
  const res = await mint({ pool, ttl_seconds });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return RunnerCredential.parse(body);
}

/** Posts `body` signed as a runner holding `credential` (`<id>:<secret>`). */
function credentialPost(path: string, body: unknown, credential: string, headers: Record<string, string> = {}): Promise<Response> {
  const parsed = parseRunnerCredential(credential);
  if (!parsed) throw new Error("not a credential");
  return runnerPost(path, body, { secret: parsed.secret, headers: { [CREDENTIAL_HEADER]: parsed.id, ...headers } });
}

const lease = (pool: string, credential: string) => credentialPost("/runner/v1/lease", { runner_id: "scoped-1", pool, clis: ["demo"], wait_ms: 0 }, credential);

describe("POST /api/v1/runner-credentials", () => {
  it("mints a credential for one pool, shown once and not cached", async () => {
    const pool = uniquePool();
    const before = Date.now();
    const res = await mint({ pool, ttl_seconds: 3_600 });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const credential = RunnerCredential.parse(await res.json());
    expect(credential.pool).toBe(pool);
    expect(credential.credential_id).toMatch(new RegExp(`^cfrc1:${pool}:\\d+:[0-9a-f]{32}$`));
    expect(credential.credential.startsWith(`${credential.credential_id}:`)).toBe(true);
    const expires = Date.parse(credential.expires_at);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1_000) * 1_000 + 3_600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3_600_000);
    // Every mint is new.
    expect((await minted(pool)).credential_id).not.toBe(credential.credential_id);
  });

  it("defaults to a day, and refuses bad input naming the field", async () => {
    const credential = RunnerCredential.parse(await (await mint({ pool: uniquePool() })).json());
    expect(Date.parse(credential.expires_at) - Date.now()).toBeGreaterThan(86_000_000);
    await expectError(await mint({ pool: uniquePool(), ttl_seconds: 10 }), 400, "validation_failed", "ttl_seconds");
    await expectError(await mint({ pool: uniquePool(), ttl_seconds: 31 * 86_400 }), 400, "validation_failed", "ttl_seconds");
    await expectError(await mint({ pool: "Not A Pool" }), 400, "validation_failed", "pool");
    await expectError(await mint({}), 400, "validation_failed", "pool");
    await expectError(await mint({ pool: "gpu", secret: "x" }), 400, "validation_failed");
    await expectError(await apiFetch("/api/v1/runner-credentials"), 405, "method_not_allowed");
  });

  it("is for admins only", async () => {
    const key = await createKey({ scopes: ["tasks:read", "tasks:write"] });
    await expectError(await apiFetch("/api/v1/runner-credentials", { json: { pool: "gpu" }, key: key.key }), 403, "forbidden");
    await expectError(await apiFetch("/api/v1/runner-credentials", { json: { pool: "gpu" }, key: null }), 401, "unauthorized");
  });

  it("is audited with the credential's id, never its secret", async () => {
    const credential = await minted(uniquePool());
    const secret = parseRunnerCredential(credential.credential)!.secret;
    let page: AuditPage | undefined;
    for (let i = 0; i < 50; i++) {
      const res = await apiFetch("/api/v1/audit?action=runner_credential.create&limit=100");
      page = AuditPage.parse(await res.json());
      if (page.entries.some((e) => e.target === credential.credential_id)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(page!.entries.find((e) => e.target === credential.credential_id)).toMatchObject({ action: "runner_credential.create", outcome: "success" });
    expect(JSON.stringify(page)).not.toContain(secret);
  });
});

describe("a runner signing with a credential", () => {
  it("leases from its own pool and is refused any other with 403", async () => {
    const pool = uniquePool();
    const { credential } = await minted(pool);
    const task = await createTask({ pool });
    const res = await lease(pool, credential);
    expect(res.status).toBe(200);
    expect((await res.json()) as { task_id: string }).toMatchObject({ task_id: task.id });
    expect((await lease(pool, credential)).status).toBe(204);

    const other = uniquePool();
    await createTask({ pool: other });
    const refused = await expectError(await lease(other, credential), 403, "forbidden", "pool");
    expect(refused.error.message).toBe(`this runner credential is for pool "${pool}", not "${other}"`);
  });

  it("reports on its pool's tasks, and is refused a write for a task of another pool with 403", async () => {
    const pool = uniquePool();
    const other = uniquePool();
    const mine = (await minted(pool)).credential;
    const theirs = (await minted(other)).credential;
    await createTask({ pool: other });
    const leased = await takeLease({ pool: other });
    const heartbeat = { lease_id: leased.lease_id, phase: "running" };
    const path = `/runner/v1/tasks/${leased.task_id}/heartbeat`;
    // Even with the lease id in hand, pool A's credential cannot touch pool B's task.
    const refused = await expectError(await credentialPost(path, heartbeat, mine), 403, "forbidden");
    expect(refused.error.message).toContain(`pool "${pool}"`);
    const lease_id = leased.lease_id;
    const writes = {
      events: { lease_id, batch_seq: 1, events: outputEvents(1) },
      complete: { lease_id, outcome: "failed", result: null, error: { code: "runner_error", message: "x" }, last_batch_seq: 0 },
      release: { lease_id, reason: "shutdown" },
    };
    for (const [route, body] of Object.entries(writes)) {
      await expectError(await credentialPost(`/runner/v1/tasks/${leased.task_id}/${route}`, body, mine), 403, "forbidden");
    }
    const ok = await credentialPost(path, heartbeat, theirs);
    expect(ok.status, await ok.clone().text()).toBe(200);
  });

  it("is refused with 401 once expired, tampered with, minted from a foreign secret, or malformed", async () => {
    const pool = uniquePool();
    const expired = await mintRunnerCredential({ runnerSecret: TEST_RUNNER_SECRETS[0], pool, ttlSeconds: 60, now: Date.now() - 120_000 });
    const message = (await expectError(await lease(pool, expired.credential), 401, "unauthorized")).error.message;
    expect(message).toMatch(/^the runner credential expired at \d{4}-\d\d-\d\dT.*; mint a new one$/);

    // Another pool or a later expiry in the id changes the secret it must be signed with.
    const good = await minted(pool);
    const secret = parseRunnerCredential(good.credential)!.secret;
    const otherPool = good.credential_id.replace(`:${pool}:`, ":elsewhere:");
    await expectError(await lease("elsewhere", `${otherPool}:${secret}`), 401, "unauthorized");
    const later = good.credential_id.replace(/:(\d+):/, (_, s: string) => `:${Number(s) + 86_400}:`);
    await expectError(await lease(pool, `${later}:${secret}`), 401, "unauthorized");

    const foreign = await mintRunnerCredential({ runnerSecret: "not-a-secret-of-this-edge-0123456789", pool, ttlSeconds: 600 });
    expect((await expectError(await lease(pool, foreign.credential), 401, "unauthorized")).error.message).toBe("request signature does not match");

    const body = { runner_id: "scoped-1", pool, clis: ["demo"], wait_ms: 0 };
    const malformed = await runnerPost("/runner/v1/lease", body, { secret, headers: { [CREDENTIAL_HEADER]: "cfrc1:../../etc" } });
    expect((await expectError(malformed, 401, "unauthorized")).error.message).toBe(`${CREDENTIAL_HEADER} is not a runner credential id`);
    // The derived secret is no runner secret: without its id it verifies nothing.
    await expectError(await runnerPost("/runner/v1/lease", body, { secret }), 401, "unauthorized");
  });

  it("keeps working from the previous runner secret during a rotation", async () => {
    const pool = uniquePool();
    const old = await mintRunnerCredential({ runnerSecret: TEST_RUNNER_SECRETS[1], pool, ttlSeconds: 600 });
    expect((await lease(pool, old.credential)).status).toBe(204);
  });
});
