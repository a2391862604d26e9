/**
 * Integration: the fake GitHub itself, over plain HTTP — the checks other suites rely on it to
 * make (tokens, scopes, permissions, status codes) and its webhook deliveries, verified the way
 * the edge verifies them (`@octokit/webhooks-methods`).
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { verify } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitHubApp } from "../../edge/src/github/github-app.js";
import { type FakeGitHub, startFakeGitHub } from "../support/fake-github.js";

let gh: FakeGitHub;
beforeAll(async () => {
  gh = await startFakeGitHub({ installationId: 55, appId: "9001", webhookSecret: "s3cret" });
  gh.addIssue("acme/app", { number: 1, title: "Bug", body: "b", user: "alice" });
});
afterAll(() => gh.close());

const app = () => new GitHubApp({ appId: gh.appId, privateKey: gh.privateKeyPem, apiUrl: gh.url });
const api = (path: string, token: string, init: RequestInit = {}) =>
  fetch(`${gh.url}${path}`, { ...init, headers: { authorization: `token ${token}`, "content-type": "application/json", ...init.headers } });

describe("fake GitHub", () => {
  it("refuses unknown and expired tokens (401), other repositories and missing permissions (403)", async () => {
    const { token } = await app().installationToken(55, { repositories: ["app"], permissions: { issues: "read" } });
    expect((await api("/repos/acme/app/issues/1", token)).status).toBe(200);
    expect((await api("/repos/acme/other/issues/1", token)).status).toBe(403);
    const post = await api("/repos/acme/app/issues/1/comments", token, { method: "POST", body: JSON.stringify({ body: "x" }) });
    expect(post.status).toBe(403);
    expect(await post.json()).toMatchObject({ message: "Resource not accessible by integration" });
    expect((await api("/repos/acme/app/issues/1", "ghs_unknown")).status).toBe(401);
    gh.tokens.find((t) => t.token === token)!.expiresAt = Date.now() - 1;
    expect((await api("/repos/acme/app/issues/1", token)).status).toBe(401);
    expect(gh.calls.every((c) => !JSON.stringify(c).includes(token))).toBe(true);
  });

  it("refuses permissions the installation lacks (422) and requests without a JWT (401)", async () => {
    const jwt = await app().appJwt();
    const admin = await fetch(`${gh.url}/app/installations/55/access_tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${jwt}` },
      body: JSON.stringify({ permissions: { administration: "write" } }),
    });
    expect(admin.status).toBe(422);
    expect((await fetch(`${gh.url}/app/installations/55/access_tokens`, { method: "POST" })).status).toBe(401);
  });

  it("answers a repeated reaction with 200 and the same reaction", async () => {
    const { token } = await app().installationToken(55);
    const react = () => api("/repos/acme/app/issues/comments/77/reactions", token, { method: "POST", body: JSON.stringify({ content: "eyes" }) });
    const first = await react();
    const second = await react();
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(((await second.json()) as { id: number }).id).toBe(((await first.json()) as { id: number }).id);
    expect(gh.reactions("acme/app")).toEqual([{ target: "issue_comment:77", content: "eyes", user: "codeforge[bot]" }]);
  });

  it("serves a file as JSON with base64 content when the raw media type is not asked for", async () => {
    gh.setFile("acme/app", "conf/.codeforge.yml", "model: sonnet\n");
    const stripAccept: typeof fetch = (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as object), accept: "application/json" } });
    const repo = new GitHubApp({ appId: gh.appId, privateKey: gh.privateKeyPem, apiUrl: gh.url }, { fetch: stripAccept }).repo(55, "acme", "app");
    expect(await repo.readFile("conf/.codeforge.yml")).toBe("model: sonnet\n");
  });

  it("delivers webhooks signed like GitHub's, which the edge's verifier accepts", async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => (received.push({ headers: req.headers, body }), res.writeHead(202).end()));
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      expect((await gh.deliver(url, "issue_comment", { action: "created" }, { delivery: "d-1" })).status).toBe(202);
      await gh.deliver(url, "ping", { zen: "hi" }, { signature: null });
      const [signed, unsigned] = received;
      expect(signed!.headers).toMatchObject({ "x-github-event": "issue_comment", "x-github-delivery": "d-1", "content-type": "application/json" });
      expect(signed!.headers["user-agent"]).toMatch(/^GitHub-Hookshot\//);
      expect(await verify("s3cret", signed!.body, String(signed!.headers["x-hub-signature-256"]))).toBe(true);
      expect(gh.sign(signed!.body)).toBe(signed!.headers["x-hub-signature-256"]);
      expect(unsigned!.headers["x-hub-signature-256"]).toBeUndefined();
      expect(unsigned!.headers["x-github-delivery"]).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      receiver.close();
    }
  });

  it("waitFor returns the probe's value, and names the last calls when it times out", async () => {
    expect(await gh.waitFor(() => gh.calls.length > 0 && gh.calls.length)).toBeGreaterThan(0);
    await expect(gh.waitFor(() => false, 50)).rejects.toThrow(/not met within 50 ms; last calls: /);
  });
});
