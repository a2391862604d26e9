/**
 * The admin commands `codeforge keys`, `audit`, `runners` and `runner-credential`, run as a
 * real process against the real edge and a real runner (cli-harness.ts): creating, listing,
 * showing, rotating and revoking keys, what a key's scope and addresses allow, how bad key
 * input is refused, the audit log of what those commands did, the runners' table, and minting
 * a pool's runner credential. The webhook admin commands are in cli-admin-webhooks.test.ts.
 */
import { describe, expect, it } from "vitest";
import { AuditEntry, AuditPage } from "#api/audit.js";
import { ApiKeyList } from "#api/keys.js";
import { CREDENTIAL_HEADER, parseRunnerCredential, RunnerCredential } from "#api/runner-credential.js";
import { RunnerList } from "#api/runner-protocol.js";
import { signRequest } from "#api/signing.js";
import { codeforge, codeforgeJson, eventually, newKey, stack, useCliStack } from "./cli-harness.js";

useCliStack();

describe("codeforge keys", { timeout: 90_000 }, () => {
  it("creates a key with scopes, limits, expiry and CIDRs, printing its secret once; lists and shows it", async () => {
    const run = await codeforge([
      "keys",
      "create",
      "--name",
      "ci runner",
      "--scope",
      "tasks:read",
      "--expires-in",
      "30d",
      "--cidr",
      "127.0.0.0/8",
      "--cidr",
      "::1/128",
      "--max-concurrent",
      "2",
      "--tasks-per-minute",
      "30",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const [, id, secret] = /^created (key_\w+) "ci runner" \(tasks:read\)\nkey: (cf_key_\w+)\n$/.exec(run.stdout) ?? [];
    expect(secret, run.stdout).toMatch(/^cf_key_/);
    expect(run.stderr).toBe("Store the key now: it is not shown again.\n");

    const list = await codeforge(["keys"]);
    expect(list.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+SCOPES\s+STATUS\s+CREATED \(UTC\)\s+EXPIRES \(UTC\)\s+CIDRS$/);
    const row = list.stdout.split("\n").find((l) => l.startsWith(id!));
    expect(row).toMatch(/ci runner\s+tasks:read\s+active\s+.*127\.0\.0\.0\/8,::1\/128$/);
    expect(list.stdout).not.toContain(secret);
    const listed = await codeforgeJson(ApiKeyList, ["keys", "list", "--all"]);
    expect(listed.keys.find((k) => k.id === id)).toMatchObject({ scopes: ["tasks:read"], limits: { max_concurrent_tasks: 2, tasks_per_minute: 30 } });

    const shown = await codeforge(["keys", "show", id!]);
    expect(shown.stdout).toMatch(/^scopes {6}tasks:read$/m);
    expect(shown.stdout).toMatch(/^limits {6}tasks_per_minute=30, max_concurrent_tasks=2$/m);
    expect(shown.stdout).toMatch(/^addresses {3}127\.0\.0\.0\/8, ::1\/128$/m);

    // The local stack trusts no client address (CLIENT_ADDRESS_HEADER=none, as under npm start),
    // so a key bound to addresses is refused, saying why, rather than trusting a header anyone can send.
    const bound = await codeforge(["tasks"], { CODEFORGE_API_KEY: secret! });
    expect(bound.code).toBe(5);
    expect(bound.stderr).toMatch(/^codeforge: forbidden: this API key may only be used from its allowed_cidrs, and the edge has no trustworthy client address/);
    expect(bound.stderr).not.toContain(secret!);

    // A key without addresses works for what its scope allows, and not for more.
    const reader = await newKey("reader", ["--scope", "tasks:read"]);
    expect((await codeforge(["tasks"], { CODEFORGE_API_KEY: reader.key })).code).toBe(0);
    const write = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x"], { CODEFORGE_API_KEY: reader.key });
    expect(write.code).toBe(5);
    expect(write.stderr).toMatch(/^codeforge: forbidden: this API key lacks the 'tasks:write' scope/);
    expect(write.stderr).toContain("hint: use a key with the scope this needs");
  });

  it("rotates (the old secret stops after the overlap) and revokes; a non-admin key cannot manage keys", async () => {
    const made = await newKey("rotating");
    const rotated = await codeforge(["keys", "rotate", made.id, "--overlap", "0"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const fresh = /^key: (cf_key_\w+)$/m.exec(rotated.stdout)![1]!;
    expect(fresh).not.toBe(made.key);
    expect(rotated.stdout).toContain("the previous secret no longer works");
    expect(rotated.stderr).toContain("Store the key now");

    const old = await codeforge(["tasks"], { CODEFORGE_API_KEY: made.key });
    expect(old.code).toBe(5);
    expect(old.stderr).toMatch(/^codeforge: unauthorized: /);
    expect(old.stderr).toContain("hint: the key came from CODEFORGE_API_KEY");
    expect(old.stderr).not.toContain(made.key);
    expect((await codeforge(["tasks"], { CODEFORGE_API_KEY: fresh })).code).toBe(0);

    const revoked = await codeforge(["keys", "revoke", made.id]);
    expect(revoked).toMatchObject({ code: 0, stdout: `${made.id} revoked; it is refused everywhere within seconds\n` });
    expect((await codeforge(["tasks"], { CODEFORGE_API_KEY: fresh })).code).toBe(5);

    const notAdmin = await codeforge(["keys"], { CODEFORGE_API_KEY: (await newKey("plain")).key });
    expect(notAdmin.code).toBe(5);
    expect(notAdmin.stderr).toContain("forbidden: this API key lacks the 'admin' scope");
  });

  it("says on stderr which scopes a key gets when no --scope is given", async () => {
    const run = await codeforge(["keys", "create", "--name", "defaults"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^created key_\w+ "defaults" \(tasks:read, tasks:write\)\n/);
    expect(run.stderr).toBe("no --scope given: granting tasks:read, tasks:write\nStore the key now: it is not shown again.\n");
    const json = await codeforge(["keys", "create", "--name", "defaults", "--json"]);
    expect(json.stderr).toContain("no --scope given: granting tasks:read, tasks:write");
    expect(JSON.parse(json.stdout)).toMatchObject({ scopes: ["tasks:read", "tasks:write"] });
  });

  it("refuses bad key input before or at the API, naming it", async () => {
    expect((await codeforge(["keys", "create"])).stderr).toContain("keys create needs --name");
    expect((await codeforge(["keys", "create", "--name", "x", "--scope", "root"])).stderr).toContain("--scope must be one of tasks:read, tasks:write, admin");
    expect((await codeforge(["keys", "create", "--name", "x", "--expires-in", "soon"])).code).toBe(2);
    const cidr = await codeforge(["keys", "create", "--name", "x", "--cidr", "10.0.0.0/99"]);
    expect(cidr.code).toBe(3);
    expect(cidr.stderr).toMatch(/^codeforge: validation_failed \[allowed_cidrs\.0\]: /);
    expect((await codeforge(["keys", "frob"])).code).toBe(2);
    const missing = await codeforge(["keys", "revoke", "key_0000000000000000"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^codeforge: not_found: key not found/);
  });
});

describe("codeforge audit", { timeout: 90_000 }, () => {
  it("lists what earlier commands did, who did it and whether it worked, filtered and paged", async () => {
    const made = await newKey("audited");
    const missing = await codeforge(["keys", "revoke", "key_0000000000000000"]);
    expect(missing.code).toBe(3);

    const table = await eventually(
      () => codeforge(["audit", "--action", "key.create", "--target", made.id]),
      (r) => r.stdout.includes(made.id),
    );
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TIME \(UTC\)\s+ACTOR\s+ACTION\s+TARGET\s+OUTCOME\s+CLIENT IP\s+REQUEST\s+DETAIL$/);
    expect(lines.slice(1)).toEqual([expect.stringMatching(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\S+\\s+admin\\s+key\\.create\\s+${made.id}\\s+success\\s+`))]);
    expect(table.stdout).not.toContain(made.key);

    const failed = await eventually(
      () => codeforge(["audit", "--target", "key_0000000000000000", "--since", "1h"]),
      (r) => r.stdout.includes("key.revoke"),
    );
    expect(failed.stdout).toMatch(/\sadmin\s+key\.revoke\s+key_0000000000000000\s+failure \(not_found\)\s/);

    const json = await codeforgeJson(AuditPage, ["audit", "--actor", "admin", "--since", "1h"]);
    expect(json.entries.filter((e) => e.target === made.id).map((e) => e.action)).toEqual(["key.create"]);
    expect(json.entries.length).toBeGreaterThanOrEqual(2);

    // A page of one says how to get the next; running that gives the next entry.
    const first = await codeforge(["audit", "--actor", "admin", "--limit", "1"]);
    const more = /^more: codeforge (audit --actor admin --limit 1 --cursor \S+)$/m.exec(first.stdout);
    expect(more, first.stdout).not.toBeNull();
    const next = await codeforge(more![1]!.split(" "));
    expect(next.code).toBe(0);
    expect(next.stdout.split("\n")[1]).not.toBe(first.stdout.split("\n")[1]);
    expect(first.stdout).toContain(json.entries[0]!.request_id);
    expect(next.stdout).toContain(json.entries[1]!.request_id);
  });

  it("exports a time range oldest first as one JSON entry a line, with the count on stderr", async () => {
    const made = await newKey("exported");
    const run = await eventually(
      () => codeforge(["audit", "export", "--since", "1h"]),
      (r) => r.stdout.includes(made.id),
    );
    expect(run.code, run.stderr).toBe(0);
    const entries = run.stdout
      .trimEnd()
      .split("\n")
      .map((line) => AuditEntry.parse(JSON.parse(line)));
    expect(entries.find((e) => e.target === made.id)).toMatchObject({ action: "key.create", actor: "admin", outcome: "success" });
    const times = entries.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(run.stderr).toMatch(new RegExp(`^exported ${entries.length} audit entries from \\d{4}-\\S+Z until \\d{4}-\\S+Z\n$`));
    expect(run.stdout).not.toContain(made.key);

    const none = await codeforge(["audit", "export", "--until", "2026-01-01T00:00:00Z", "--since", "2025-12-31T00:00:00Z"]);
    expect(none).toMatchObject({ code: 0, stdout: "", stderr: "exported 0 audit entries from 2025-12-31T00:00:00Z until 2026-01-01T00:00:00Z\n" });
  });

  it("refuses bad filters before asking, and a key without the admin scope", async () => {
    const since = await codeforge(["audit", "--since", "yesterday"]);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain("--since takes an ISO 8601 time with a zone (2026-01-31T12:00:00Z) or a time ago (30m, 24h, 7d)");
    const action = await codeforge(["audit", "--action", "key.delete"]);
    expect(action.code).toBe(2);
    expect(action.stderr).toContain("--action must be one of task.create,");
    expect((await codeforge(["audit", "--all", "--limit", "5"])).code).toBe(2);
    expect((await codeforge(["audit", "export", "--since", "last week"])).code).toBe(2);
    const notAdmin = await codeforge(["audit"], { CODEFORGE_API_KEY: (await newKey("auditor")).key });
    expect(notAdmin.code).toBe(5);
    expect(notAdmin.stderr).toContain("forbidden");
  });
});

describe("codeforge runners", { timeout: 90_000 }, () => {
  it("lists the runners with their pool, CLIs and load", async () => {
    // A runner shows once it has asked for work; a fresh stack's runner may not have yet.
    await eventually(
      () => codeforgeJson(RunnerList, ["runners"]),
      (l) => l.runners.length > 0,
    );
    const table = await codeforge(["runners"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+POOL\s+BUSY\s+CLIS\s+LABELS\s+VERSION\s+LAST SEEN \(UTC\)$/);
    expect(table.stdout).toMatch(/^e2e-runner-1\s+default\s+\d\/2\s+\S*demo\S*\s/m);
    const list = await codeforgeJson(RunnerList, ["runners"]);
    expect(list.runners).toEqual([expect.objectContaining({ id: "e2e-runner-1", pool: "default", capacity: 2 })]);
    const notAdmin = await codeforge(["runners"], { CODEFORGE_API_KEY: (await newKey("nosy")).key });
    expect(notAdmin.code).toBe(5);
    expect(notAdmin.stderr).toContain("forbidden: listing runners needs an admin key");
  });
});

describe("codeforge runner-credential", { timeout: 90_000 }, () => {
  /** A lease request for `pool` signed with `credential`, as a runner holding it sends one. */
  async function leaseWith(credential: string, pool: string): Promise<number> {
    const { id, secret } = parseRunnerCredential(credential)!;
    const body = JSON.stringify({ runner_id: "cli-credential-check", pool, clis: ["demo"], wait_ms: 0 });
    const headers = await signRequest({ secret, method: "POST", pathAndQuery: "/runner/v1/lease", body });
    const res = await fetch(`${stack.edgeUrl}/runner/v1/lease`, {
      method: "POST",
      headers: { ...headers, [CREDENTIAL_HEADER]: id, "content-type": "application/json" },
      body,
    });
    return res.status;
  }

  it("prints a credential for one pool alone on stdout, which the edge takes for that pool only", async () => {
    const run = await codeforge(["runner-credential", "--pool", "cli-gpu", "--ttl", "600"]);
    expect(run.code, run.stderr).toBe(0);
    const credential = run.stdout.trim();
    expect(run.stdout).toMatch(/^cfrc1:cli-gpu:\d+:[0-9a-f]{32}:[0-9a-f]{64}\n$/);
    expect(run.stderr).toMatch(/^A credential for pool cli-gpu's runners until \d{4}-.*Z \(cfrc1:cli-gpu:.*\)\. Store it now: it is not shown again\.\n$/);
    expect(await leaseWith(credential, "cli-gpu")).toBe(204);
    expect(await leaseWith(credential, "default")).toBe(403);

    const json = await codeforgeJson(RunnerCredential, ["runner-credential", "--pool", "cli-gpu", "--json"]);
    expect(Date.parse(json.expires_at) - Date.now()).toBeGreaterThan(86_000_000);
    expect((await codeforge(["runner-credential"])).code).toBe(2);
    expect((await codeforge(["runner-credential", "--pool", "cli-gpu", "--ttl", "5"])).code).toBe(2);
    const notAdmin = await codeforge(["runner-credential", "--pool", "cli-gpu"], { CODEFORGE_API_KEY: (await newKey("minter")).key });
    expect(notAdmin.code).toBe(5);
  });
});
