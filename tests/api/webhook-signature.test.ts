/**
 * Unit: Standard Webhooks signing on WebCrypto — the specification's published test vector,
 * rotation (two signatures), and an independent receiver (the `standardwebhooks` package)
 * accepting what we sign and refusing what we did not.
 */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, signWebhook, verifyWebhook, webhookSecretKey, webhookSignature } from "#api/webhook-signature.js";

// From the Standard Webhooks specification and its reference libraries' tests.
const VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

describe("webhook signatures", () => {
  it("match the specification's test vector", async () => {
    expect(await webhookSignature(VECTOR.secret, VECTOR)).toBe(VECTOR.signature);
    expect(await signWebhook({ secrets: [VECTOR.secret], ...VECTOR })).toEqual({
      "webhook-id": VECTOR.id,
      "webhook-timestamp": "1614265330",
      "webhook-signature": VECTOR.signature,
    });
  });

  it("are accepted by the standardwebhooks reference library", async () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ type: "task.succeeded", timestamp: new Date().toISOString(), data: { task: { id: "tsk_x", note: "ünïcödé ✓" } } });
    const headers = await signWebhook({ secrets: [secret], id: "msg_0123", timestamp: Math.floor(Date.now() / 1000), body });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // …and refused by it with another secret, or for one changed byte.
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow(/No matching signature/);
    expect(() => new Webhook(secret).verify(body.replace("succeeded", "failed"), headers)).toThrow(/No matching signature/);
  });

  it("carry one signature per secret during a rotation, and either secret verifies", async () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const body = '{"type":"task.failed"}';
    const headers = await signWebhook({ secrets: [current, previous], id: "msg_r", timestamp: Math.floor(Date.now() / 1000), body });
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
    for (const secret of [current, previous]) {
      expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
      expect(await verifyWebhook({ secret, headers, body })).toEqual({ ok: true });
    }
    expect(await verifyWebhook({ secret: newWebhookSecret(), headers, body })).toEqual({ ok: false, reason: "mismatch" });
  });

  it("verifyWebhook refuses stale timestamps, missing headers and tampered bodies", async () => {
    const headers = await signWebhook({ secrets: [VECTOR.secret], ...VECTOR });
    const at = (seconds: number) => () => seconds * 1000;
    expect(await verifyWebhook({ secret: VECTOR.secret, headers, body: VECTOR.body, now: at(VECTOR.timestamp + 10) })).toEqual({ ok: true });
    expect(await verifyWebhook({ secret: VECTOR.secret, headers, body: VECTOR.body, now: at(VECTOR.timestamp + 301) })).toEqual({
      ok: false,
      reason: "expired",
    });
    expect(await verifyWebhook({ secret: VECTOR.secret, headers, body: `${VECTOR.body} `, now: at(VECTOR.timestamp) })).toEqual({
      ok: false,
      reason: "mismatch",
    });
    expect(await verifyWebhook({ secret: VECTOR.secret, headers: { "webhook-id": VECTOR.id }, body: VECTOR.body })).toEqual({ ok: false, reason: "missing" });
    const garbled = { ...headers, "webhook-signature": "v1,!!!notbase64 v2,abc" };
    expect(await verifyWebhook({ secret: VECTOR.secret, headers: garbled, body: VECTOR.body, now: at(VECTOR.timestamp) })).toEqual({
      ok: false,
      reason: "mismatch",
    });
  });

  it("makes whsec_ secrets of 32 random bytes, and reads them with or without the prefix", () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhookSecretKey(secret)).toHaveLength(32);
    expect(webhookSecretKey(secret.slice("whsec_".length))).toEqual(webhookSecretKey(secret));
    expect(newWebhookSecret()).not.toBe(secret);
  });
});
