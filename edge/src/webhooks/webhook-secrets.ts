/**
 * `WebhookSecrets`: the Durable Object that keeps an owner's webhook signing secret (one object
 * per owner), and `webhookSecretsFor`, the narrow interface the rest of the edge uses.
 *
 * Routes and task objects only ever see `WebhookSecretSource`; when API keys get their own
 * store, the secrets can move there by reimplementing that one function.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { WebhookSecret } from "#api/webhooks.js";
import type { Env } from "../env.js";
import { migrate } from "../sql/migrations.js";
import { rotateSecret, showSecret, signingSecrets, WEBHOOK_SECRET_MIGRATIONS } from "./webhook-secret-store.js";

/** Everything the edge needs of webhook secrets. */
export interface WebhookSecretSource {
  /** Secrets to sign a delivery with now: current first, previous during an overlap. */
  signingSecrets(owner: string): Promise<string[]>;
  /** The owner's current secret (made on first use). */
  show(owner: string): Promise<WebhookSecret>;
  /** Replaces the owner's secret; the old one still signs for `overlapSeconds`. */
  rotate(owner: string, overlapSeconds: number): Promise<WebhookSecret>;
}

export class WebhookSecrets extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql, WEBHOOK_SECRET_MIGRATIONS);
  }

  async signingSecrets(owner: string): Promise<string[]> {
    return signingSecrets(this.ctx.storage.sql, owner, Date.now());
  }

  async show(owner: string): Promise<WebhookSecret> {
    return showSecret(this.ctx.storage.sql, owner, Date.now());
  }

  async rotate(owner: string, overlapSeconds: number): Promise<WebhookSecret> {
    return rotateSecret(this.ctx.storage.sql, owner, overlapSeconds * 1_000, Date.now());
  }
}

/** The secrets source backed by one `WebhookSecrets` object per owner. */
export function webhookSecretsFor(env: Env): WebhookSecretSource {
  const stub = (owner: string) => env.WEBHOOK_SECRETS.get(env.WEBHOOK_SECRETS.idFromName(owner));
  return {
    signingSecrets: (owner) => stub(owner).signingSecrets(owner),
    show: (owner) => stub(owner).show(owner),
    rotate: (owner, overlapSeconds) => stub(owner).rotate(owner, overlapSeconds),
  };
}
