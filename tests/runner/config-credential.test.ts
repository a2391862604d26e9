// Unit: a runner configured with its pool's runner credential instead of the runner secret
// (CODEFORGE_RUNNER_CREDENTIAL): the pool it implies, what it signs with, and its errors, none
// of which quotes the secret.
import { describe, expect, it } from "vitest";
import { mintRunnerCredential } from "#api/runner-credential.js";
import { loadConfig, signingKey } from "../../runner/src/config.js";
import { configErrorOf } from "./config-error.js";

const RUNNER_SECRET = "operator-runner-secret-0123456789";
const load = (env: Record<string, string>, defaults?: Record<string, unknown>) =>
  loadConfig({ argv: [], env: { CODEFORGE_EDGE_URL: "https://edge.example.com", ...env }, readFile: () => "", hostname: "h", tmpdir: "/var/tmp", defaults });

describe("runner_credential", () => {
  it("takes the pool from the credential and signs with the credential's secret, sending its id", async () => {
    const minted = await mintRunnerCredential({ runnerSecret: RUNNER_SECRET, pool: "gpu", ttlSeconds: 600 });
    const config = load({ CODEFORGE_RUNNER_CREDENTIAL: minted.credential });
    expect(config.pool).toBe("gpu");
    expect(config.runner_secret).toBeUndefined();
    const key = signingKey(config);
    expect(key.credentialId).toBe(minted.credential_id);
    expect(`${key.credentialId}:${key.secret}`).toBe(minted.credential);
    expect(load({ CODEFORGE_RUNNER_CREDENTIAL: minted.credential, CODEFORGE_POOL: "gpu" }).pool).toBe("gpu");
    // Without one, the runner secret signs and no id is sent.
    expect(signingKey(load({ CODEFORGE_RUNNER_SECRET: RUNNER_SECRET }))).toEqual({ secret: RUNNER_SECRET });
  });

  it("refuses another pool, both credentials at once, an expired credential and a malformed one, never quoting them", async () => {
    const minted = await mintRunnerCredential({ runnerSecret: RUNNER_SECRET, pool: "gpu", ttlSeconds: 600 });
    const secret = minted.credential.slice(minted.credential_id.length + 1);
    const messages = [
      configErrorOf(() => load({ CODEFORGE_RUNNER_CREDENTIAL: minted.credential, CODEFORGE_POOL: "cpu" })).message,
      configErrorOf(() => load({ CODEFORGE_RUNNER_CREDENTIAL: minted.credential, CODEFORGE_RUNNER_SECRET: RUNNER_SECRET })).message,
      configErrorOf(() => load({ CODEFORGE_RUNNER_CREDENTIAL: `${minted.credential_id}:${secret.slice(1)}` })).message,
    ];
    expect(messages[0]).toContain('pool (CODEFORGE_POOL): the runner credential is for pool "gpu", not "cpu"');
    expect(messages[1]).toContain("runner_credential (CODEFORGE_RUNNER_CREDENTIAL): set either runner_credential or runner_secret, not both");
    expect(messages[2]).toContain("runner_credential (CODEFORGE_RUNNER_CREDENTIAL): must be a runner credential");
    const expired = await mintRunnerCredential({ runnerSecret: RUNNER_SECRET, pool: "gpu", ttlSeconds: 60, now: Date.now() - 120_000 });
    const expiredMessage = configErrorOf(() => load({ CODEFORGE_RUNNER_CREDENTIAL: expired.credential })).message;
    expect(expiredMessage).toMatch(/runner_credential \(CODEFORGE_RUNNER_CREDENTIAL\): expired at \d{4}-.*; mint a new one/);
    for (const message of [...messages, expiredMessage]) {
      expect(message).not.toContain(secret);
      expect(message).not.toContain(RUNNER_SECRET);
    }
  });

  it("is one of the two ways a runner is let in: with neither, the runner secret is named as missing", () => {
    expect(configErrorOf(() => load({})).message).toContain("runner_secret (CODEFORGE_RUNNER_SECRET): is required (or a runner_credential instead)");
  });

  it("takes precedence over a default secret (the sandbox self-check's)", async () => {
    const minted = await mintRunnerCredential({ runnerSecret: RUNNER_SECRET, pool: "gpu", ttlSeconds: 600 });
    const config = load({ CODEFORGE_RUNNER_CREDENTIAL: minted.credential }, { runner_secret: "self-check-without-a-runner-secret" });
    expect(signingKey(config).credentialId).toBe(minted.credential_id);
  });
});
