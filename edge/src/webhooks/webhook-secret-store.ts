/**
 * Webhook signing secrets, one per owner, with the previous one kept for a rotation's
 * overlap. Handed `sql`; keyed by owner, so the table can live in a per-owner object (as now)
 * or move, unchanged, into a shared key store.
 *
 * The secret is the receiver's verification key, and its owner may read it back at any time
 * (`GET /api/v1/webhook-secret`), so it is stored as issued, in the object's own SQLite
 * (encrypted at rest by the platform), and never logged.
 * @module
 */
import { newWebhookSecret } from "#api/webhook-signature.js";
import type { WebhookSecret } from "#api/webhooks.js";
import type { Migration, Sql } from "../sql/migrations.js";

export const WEBHOOK_SECRET_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "webhook secrets",
    statements: [
      `CREATE TABLE webhook_secrets (
        owner TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        previous_secret TEXT,
        previous_expires_at INTEGER
      )`,
    ],
  },
];

interface SecretRow extends Record<string, SqlStorageValue> {
  owner: string;
  secret: string;
  created_at: number;
  previous_secret: string | null;
  previous_expires_at: number | null;
}

/** The owner's row, made with a fresh secret the first time anyone asks. */
function ensure(sql: Sql, owner: string, now: number): SecretRow {
  const row = sql.exec<SecretRow>("SELECT * FROM webhook_secrets WHERE owner = ?", owner).toArray()[0];
  if (row) return row;
  sql.exec("INSERT INTO webhook_secrets (owner, secret, created_at) VALUES (?, ?, ?)", owner, newWebhookSecret(), now);
  return sql.exec<SecretRow>("SELECT * FROM webhook_secrets WHERE owner = ?", owner).one();
}

const overlapping = (row: SecretRow, now: number) => row.previous_secret !== null && row.previous_expires_at !== null && now < row.previous_expires_at;

/** The secrets to sign with now: the current one first, then the previous one while it overlaps. */
export function signingSecrets(sql: Sql, owner: string, now: number): string[] {
  const row = ensure(sql, owner, now);
  return overlapping(row, now) ? [row.secret, row.previous_secret!] : [row.secret];
}

/** The owner's secret as `GET /api/v1/webhook-secret` shows it. */
export function showSecret(sql: Sql, owner: string, now: number): WebhookSecret {
  const row = ensure(sql, owner, now);
  return {
    secret: row.secret,
    created_at: new Date(row.created_at).toISOString(),
    previous_secret_expires_at: overlapping(row, now) ? new Date(row.previous_expires_at!).toISOString() : null,
  };
}

/**
 * Issues a new secret; the one it replaces keeps signing for `overlapMs` (0: not at all). A
 * rotation during another's overlap ends that overlap: only the last two secrets sign.
 */
export function rotateSecret(sql: Sql, owner: string, overlapMs: number, now: number): WebhookSecret {
  const row = ensure(sql, owner, now);
  sql.exec(
    "UPDATE webhook_secrets SET secret = ?, created_at = ?, previous_secret = ?, previous_expires_at = ? WHERE owner = ?",
    newWebhookSecret(),
    now,
    overlapMs > 0 ? row.secret : null,
    overlapMs > 0 ? now + overlapMs : null,
    owner,
  );
  return showSecret(sql, owner, now);
}
