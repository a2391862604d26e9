/**
 * The GitHub App's webhook and installation API through the real Worker, with the App
 * configured (vitest.edge.config.ts) and deliveries accepted only from GitHub's published hook
 * ranges: every refusal a hostile or confused sender can meet — unsigned, mis-signed, oversized,
 * malformed, unknown events, bots, unknown installations, other addresses — is a 4xx naming the
 * problem (or a 202 saying why the event is ignored), never a 5xx; a redelivery starts nothing
 * new. The whole loop with a GitHub API is tests/e2e/github-app.test.ts.
 * @module
 */
import { SELF } from "cloudflare:test";
import { sign } from "@octokit/webhooks-methods";
import examples from "@octokit/webhooks-examples/api.github.com/index.json";
import { describe, expect, it } from "vitest";
import { ErrorBody } from "#api/errors.js";
import { GitHubInstallationLink, GitHubWebhookAnswer } from "#api/github.js";
import { apiFetch, ORIGIN } from "./api-client.js";
import { TEST_GITHUB_WEBHOOK_SECRET } from "./credentials.js";
import { createKey } from "./key-client.js";

const GITHUB_ADDRESS = "140.82.112.10";

type Example = Record<string, unknown> & { action?: string };
const example = (event: string, action: string): Example => {
  const found = (examples as { name: string; examples: Example[] }[]).find((e) => e.name === event)!.examples.find((e) => e.action === action);
  return structuredClone(found!);
};

/** An `@codeforge` comment on an issue from installation `installationId`, by a user. */
function triggerComment(installationId: number, body = "@codeforge add a greeting"): Example {
  const payload = example("issue_comment", "created");
  const issue = payload.issue as Record<string, unknown>;
  delete issue.pull_request;
  (payload.comment as Record<string, unknown>).body = body;
  return { ...payload, installation: { id: installationId } };
}

async function deliver(
  event: string,
  payload: unknown,
  options: { delivery?: string; signature?: string | null; body?: string; address?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const body = options.body ?? JSON.stringify(payload);
  const headers = new Headers({
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/test",
    "cf-connecting-ip": options.address ?? GITHUB_ADDRESS,
  });
  headers.set("x-github-event", event);
  headers.set("x-github-delivery", options.delivery ?? crypto.randomUUID());
  const signature = options.signature === undefined ? await sign(TEST_GITHUB_WEBHOOK_SECRET, body) : options.signature;
  if (signature !== null) headers.set("x-hub-signature-256", signature);
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  return SELF.fetch(`${ORIGIN}/integrations/github/webhook`, { method: "POST", headers, body });
}

async function expectError(res: Response, status: number, code: string): Promise<string> {
  const body = ErrorBody.parse(await res.json());
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  return body.error.message;
}

async function expectAnswer(res: Response, status: number, answer: GitHubWebhookAnswer["status"]): Promise<GitHubWebhookAnswer> {
  const body = GitHubWebhookAnswer.parse(await res.json());
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body.status).toBe(answer);
  return body;
}

const uniqueInstallation = () => 100_000 + Math.floor(Math.random() * 1_000_000_000);

async function mapInstallation(installationId: number): Promise<string> {
  const key = await createKey({ scopes: ["tasks:read", "tasks:write"] });
  const res = await apiFetch(`/api/v1/github/installations/${installationId}`, { method: "PUT", json: { key_id: key.id } });
  expect(res.status, await res.clone().text()).toBe(200);
  return key.id;
}

describe("signatures, checked before the body is parsed", () => {
  it("refuses a delivery without X-Hub-Signature-256", async () => {
    expect(await expectError(await deliver("ping", { zen: "hi" }, { signature: null }), 401, "invalid_signature")).toMatch(/missing/);
  });

  it("refuses a signature made with another secret, or over another body", async () => {
    const body = JSON.stringify({ zen: "hi" });
    await expectError(await deliver("ping", null, { body, signature: await sign("not-the-secret", body) }), 401, "invalid_signature");
    await expectError(await deliver("ping", null, { body: `${body} `, signature: await sign(TEST_GITHUB_WEBHOOK_SECRET, body) }), 401, "invalid_signature");
  });

  it("refuses a malformed signature header, and a body that is not JSON only once signed", async () => {
    expect(await expectError(await deliver("ping", { zen: "hi" }, { signature: "sha1=abc" }), 401, "invalid_signature")).toMatch(/sha256=/);
    // Not JSON but signed: the signature is fine, the body is then refused as what it is.
    await expectError(await deliver("ping", null, { body: "{not json" }), 400, "invalid_json");
    // Not JSON and unsigned: refused for the signature, never parsed.
    await expectError(await deliver("ping", null, { body: "{not json", signature: null }), 401, "invalid_signature");
  });

  it("refuses a body over 1 MiB before reading its signature", async () => {
    const body = JSON.stringify({ zen: "x".repeat(1_048_576) });
    await expectError(await deliver("ping", null, { body, signature: null }), 413, "payload_too_large");
  });
});

describe("headers, events and payloads", () => {
  it("answers ping", async () => {
    await expectAnswer(await deliver("ping", { zen: "Design for failure.", hook_id: 1 }), 200, "pong");
  });

  it("names a missing X-GitHub-Event or X-GitHub-Delivery", async () => {
    const body = JSON.stringify({ zen: "hi" });
    const res = await deliver("ping", null, { body, headers: { "x-github-event": "" } });
    const message = await expectError(res, 400, "bad_request");
    expect(message).toMatch(/X-GitHub-Event/);
    await expectError(await deliver("ping", null, { body, headers: { "x-github-delivery": "" } }), 400, "bad_request");
  });

  it("ignores, with the reason, events and actions CodeForge does not act on", async () => {
    const star = await expectAnswer(await deliver("star", example("star", "created")), 202, "ignored");
    expect(star.reason).toMatch(/star/);
    const edited = await expectAnswer(await deliver("issue_comment", example("issue_comment", "edited")), 202, "ignored");
    expect(edited.reason).toMatch(/edited/);
  });

  it("names the field a handled event lacks", async () => {
    const payload = triggerComment(uniqueInstallation());
    delete payload.repository;
    const res = await deliver("issue_comment", payload);
    const body = ErrorBody.parse(await res.json());
    expect(res.status).toBe(400);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.field).toMatch(/repository/);
  });

  it("ignores comments by bots, this App's own included", async () => {
    const payload = triggerComment(uniqueInstallation());
    payload.sender = { login: "codeforge[bot]", id: 1, type: "Bot" };
    const answer = await expectAnswer(await deliver("issue_comment", payload), 202, "ignored");
    expect(answer.reason).toMatch(/bot/i);
  });

  it("refuses a delivery from an installation no admin mapped, saying how to map it", async () => {
    const installationId = uniqueInstallation();
    const message = await expectError(await deliver("issue_comment", triggerComment(installationId)), 422, "unknown_installation");
    expect(message).toContain(`/api/v1/github/installations/${installationId}`);
  });

  it("refuses deliveries from outside GitHub's hook ranges when the allowlist is on", async () => {
    await expectError(await deliver("ping", { zen: "hi" }, { address: "203.0.113.9" }), 403, "forbidden");
    await expectAnswer(await deliver("ping", { zen: "hi" }, { address: "192.30.252.1" }), 200, "pong");
  });

  it("accepts a trigger comment once: a redelivery starts nothing new", async () => {
    const installationId = uniqueInstallation();
    await mapInstallation(installationId);
    const delivery = crypto.randomUUID();
    const payload = triggerComment(installationId);
    expect((await expectAnswer(await deliver("issue_comment", payload, { delivery }), 202, "accepted")).delivery).toBe(delivery);
    await expectAnswer(await deliver("issue_comment", payload, { delivery }), 202, "duplicate");
    // A comment that does not mention the trigger phrase is ignored, with the phrase named.
    const plain = await expectAnswer(await deliver("issue_comment", triggerComment(installationId, "looks good to me")), 202, "ignored");
    expect(plain.reason).toContain("@codeforge");
    // No GitHub API answers in this suite, so the accepted work would be retried for half an
    // hour: unmapped, its next try drops it, and no conversation keeps waking after the suite.
    expect((await apiFetch(`/api/v1/github/installations/${installationId}`, { method: "DELETE" })).status).toBe(200);
  });

  it("answers every hostile variant with a 4xx or a 2xx, never a 5xx", async () => {
    const variants: [string, string][] = [
      ["issue_comment", "[]"],
      ["issue_comment", "null"],
      ["issue_comment", '{"action":"created"}'],
      ["issue_comment", '{"action":"created","installation":{"id":"1"},"repository":{},"sender":{}}'],
      ["issues", '{"action":"labeled","issue":{},"label":null}'],
      ["pull_request_review_comment", '{"action":"created","comment":{"body":5}}'],
      ["UPPER", "{}"],
      ["ping", '"text"'],
    ];
    for (const [event, body] of variants) {
      const res = await deliver(event, null, { body });
      expect(res.status, `${event} ${body}: ${await res.clone().text()}`).toBeLessThan(500);
    }
  });
});

describe("mapping installations to keys (admin)", () => {
  it("maps, reads and unmaps an installation", async () => {
    const installationId = uniqueInstallation();
    const keyId = await mapInstallation(installationId);
    const read = await apiFetch(`/api/v1/github/installations/${installationId}`);
    const link = GitHubInstallationLink.parse(await read.json());
    expect(link).toMatchObject({ installation_id: installationId, key_id: keyId, linked_by: "admin" });
    const removed = await apiFetch(`/api/v1/github/installations/${installationId}`, { method: "DELETE" });
    expect(removed.status).toBe(200);
    await expectError(await apiFetch(`/api/v1/github/installations/${installationId}`), 404, "not_found");
    await expectError(await deliver("issue_comment", triggerComment(installationId)), 422, "unknown_installation");
  });

  it("refuses a key that does not exist or cannot write tasks, a malformed id, and a non-admin", async () => {
    const installationId = uniqueInstallation();
    const missing = await apiFetch(`/api/v1/github/installations/${installationId}`, { method: "PUT", json: { key_id: "key_0123456789abcdef" } });
    const body = ErrorBody.parse(await missing.json());
    expect([missing.status, body.error.field]).toEqual([400, "key_id"]);
    const reader = await createKey({ scopes: ["tasks:read"] });
    const readOnly = await apiFetch(`/api/v1/github/installations/${installationId}`, { method: "PUT", json: { key_id: reader.id } });
    expect(await expectError(readOnly, 400, "validation_failed")).toMatch(/tasks:write/);
    // Like every malformed id in a path: no such thing (404), naming what was wrong.
    expect(await expectError(await apiFetch("/api/v1/github/installations/not-a-number"), 404, "not_found")).toMatch(/installation_id/);
    await expectError(await apiFetch(`/api/v1/github/installations/${installationId}`, { key: reader.key }), 403, "forbidden");
  });
});
