/** Unit: the redaction rules both loggers apply — secret fields and secret-shaped text. */
import { describe, expect, it } from "vitest";
import { newApiKeyToken, newKeyId, newLeaseId } from "#api/ids.js";
import { REDACTED, redactText, redactValue } from "#api/log-redaction.js";
import { mintRunnerCredential } from "#api/runner-credential.js";

describe("log redaction", () => {
  it("replaces fields named like secrets, whatever their value, and keeps key ids", () => {
    const keyId = newKeyId();
    const out = redactValue({
      authorization: "Bearer abc",
      access_token: "plain-looking-value",
      env: { OPENAI_API_KEY: "x" },
      lease_id: "anything",
      webhook_secret: "y",
      key_id: keyId,
      task_id: "tsk_1",
      nested: { headers: { Authorization: "z", "x-request-id": "r1" } },
    });
    expect(out).toEqual({
      authorization: REDACTED,
      access_token: REDACTED,
      env: REDACTED,
      lease_id: REDACTED,
      webhook_secret: REDACTED,
      key_id: keyId,
      task_id: "tsk_1",
      nested: { headers: { Authorization: REDACTED, "x-request-id": "r1" } },
    });
  });

  it("finds secrets inside text: API keys (keeping the key id), lease ids, whsec_, bearer, forge tokens, URL passwords", () => {
    const keyId = newKeyId();
    const apiKey = newApiKeyToken(keyId);
    const lease = newLeaseId();
    const text = redactText(
      `key ${apiKey} lease ${lease} secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw header Bearer abcdef123456 ` +
        `gh ghp_0123456789abcdefghijABCDEFGHIJ lab glpat-0123456789abcdefghij url https://user:hunter2@git.example.com/r.git`,
    );
    expect(text).toContain(`cf_${keyId}_${REDACTED}`);
    for (const secret of [apiKey, lease, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "abcdef123456", "ghp_0123456789", "glpat-0123456789", "hunter2"]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain("https://[redacted]@git.example.com/r.git");
  });

  it("takes PEM private keys out of text, whole or cut off", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const pem = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const body = pem.split("\n")[1]!;
    const whole = redactText(`key: ${pem} (from GITHUB_APP_PRIVATE_KEY)`);
    expect(whole).not.toContain(body);
    expect(whole).toContain(`-----BEGIN RSA PRIVATE KEY-----${REDACTED}-----END RSA PRIVATE KEY-----`);
    expect(whole).toContain("(from GITHUB_APP_PRIVATE_KEY)");
    expect(redactText(pem.slice(0, 200))).not.toContain(body.slice(0, 40));
  });

  it("takes a runner credential's secret out of text, keeping its id", async () => {
    const minted = await mintRunnerCredential({ runnerSecret: "runner-secret-0123456789abcdef", pool: "gpu", ttlSeconds: 600 });
    const secret = minted.credential.slice(minted.credential_id.length + 1);
    const text = redactText(`CODEFORGE_RUNNER_CREDENTIAL=${minted.credential} was refused`);
    expect(text).toBe(`CODEFORGE_RUNNER_CREDENTIAL=${minted.credential_id}:${REDACTED} was refused`);
    expect(text).not.toContain(secret);
  });
});
