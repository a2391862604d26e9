/**
 * The key store's tables: keys, and the hashes of their secrets. Handed the object's `sql`.
 *
 * A key can have more than one working secret: after a rotation the old one keeps working
 * until its overlap ends. So secrets live in their own table, one row per secret, each with
 * its own expiry, and the unique index on the hash is what a request is looked up by. The
 * secrets themselves are never stored, only their SHA-256.
 * @module
 */
import type { KeyLimits, Scope } from "#api/keys.js";
import type { Migration, Sql } from "../sql/migrations.js";

export const KEY_STORE_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "keys and secret hashes",
    statements: [
      `CREATE TABLE keys (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        scopes TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER,
        rotated_at INTEGER,
        allowed_cidrs TEXT NOT NULL,
        limits TEXT NOT NULL
      )`,
      `CREATE TABLE key_secrets (
        hash TEXT NOT NULL,
        key_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER
      )`,
      "CREATE UNIQUE INDEX key_secrets_hash ON key_secrets (hash)",
      "CREATE INDEX key_secrets_key ON key_secrets (key_id)",
    ],
  },
];

/** A key as the edge uses it. */
export interface KeyRecord {
  seq: number;
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: number;
  createdBy: string;
  expiresAt: number | null;
  revokedAt: number | null;
  rotatedAt: number | null;
  allowedCidrs: string[];
  limits: KeyLimits;
}

/** What a secret's hash leads to: its key, and when this particular secret stops working. */
export interface KeyCredential {
  key: KeyRecord;
  /** Set once a rotation replaced this secret; null while it is the key's current one. */
  secretExpiresAt: number | null;
}

interface KeyRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  name: string;
  scopes: string;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  revoked_at: number | null;
  rotated_at: number | null;
  allowed_cidrs: string;
  limits: string;
}

function toRecord(row: KeyRow): KeyRecord {
  return {
    seq: row.seq,
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as Scope[],
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    rotatedAt: row.rotated_at,
    allowedCidrs: JSON.parse(row.allowed_cidrs) as string[],
    limits: JSON.parse(row.limits) as KeyLimits,
  };
}

export function countKeys(sql: Sql): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM keys").one().n;
}

/** Stores a new key with its first secret's hash. */
export function insertKey(sql: Sql, key: Omit<KeyRecord, "seq" | "revokedAt" | "rotatedAt">, secretHash: string): KeyRecord {
  sql.exec(
    `INSERT INTO keys (id, name, scopes, created_at, created_by, expires_at, allowed_cidrs, limits)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    key.id,
    key.name,
    JSON.stringify(key.scopes),
    key.createdAt,
    key.createdBy,
    key.expiresAt,
    JSON.stringify(key.allowedCidrs),
    JSON.stringify(key.limits),
  );
  sql.exec("INSERT INTO key_secrets (hash, key_id, created_at, expires_at) VALUES (?, ?, ?, NULL)", secretHash, key.id, key.createdAt);
  return getKey(sql, key.id)!;
}

export function getKey(sql: Sql, id: string): KeyRecord | null {
  const row = sql.exec<KeyRow>("SELECT * FROM keys WHERE id = ?", id).toArray()[0];
  return row ? toRecord(row) : null;
}

/** Keys newest first (by creation time, then id), starting after `before`. */
export function listKeys(sql: Sql, limit: number, before: { createdAt: number; id: string } | null): KeyRecord[] {
  const b = before ?? { createdAt: Number.MAX_SAFE_INTEGER, id: "" };
  return sql
    .exec<KeyRow>(
      "SELECT * FROM keys WHERE created_at < ? OR (created_at = ? AND id < ?) ORDER BY created_at DESC, id DESC LIMIT ?",
      b.createdAt,
      b.createdAt,
      b.id,
      limit,
    )
    .toArray()
    .map(toRecord);
}

/** The key a secret hash belongs to, or null for a hash the store never issued. */
export function findByHash(sql: Sql, hash: string): KeyCredential | null {
  const row = sql
    .exec<KeyRow & { secret_expires_at: number | null }>(
      `SELECT k.*, s.expires_at AS secret_expires_at FROM key_secrets s JOIN keys k ON k.id = s.key_id WHERE s.hash = ?`,
      hash,
    )
    .toArray()[0];
  return row ? { key: toRecord(row), secretExpiresAt: row.secret_expires_at } : null;
}

/** Latest time a replaced secret of the key still works, or null when none does at `now`. */
export function previousSecretExpiry(sql: Sql, keyId: string, now: number): number | null {
  return sql.exec<{ at: number | null }>("SELECT MAX(expires_at) AS at FROM key_secrets WHERE key_id = ? AND expires_at > ?", keyId, now).one().at;
}

/** Secrets of the key that still work at `now` (the current one included). */
export function liveSecretCount(sql: Sql, keyId: string, now: number): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM key_secrets WHERE key_id = ? AND (expires_at IS NULL OR expires_at > ?)", keyId, now).one().n;
}

/**
 * Gives the key a new current secret. Every older secret stops working `overlapMs` from now
 * (or sooner, if an earlier rotation already set it so); secrets already past are deleted.
 */
export function rotateSecret(sql: Sql, keyId: string, newHash: string, now: number, overlapMs: number): void {
  const until = now + overlapMs;
  sql.exec("DELETE FROM key_secrets WHERE key_id = ? AND expires_at IS NOT NULL AND expires_at <= ?", keyId, now);
  sql.exec("UPDATE key_secrets SET expires_at = MIN(COALESCE(expires_at, ?), ?) WHERE key_id = ?", until, until, keyId);
  sql.exec("DELETE FROM key_secrets WHERE key_id = ? AND expires_at <= ?", keyId, now);
  sql.exec("INSERT INTO key_secrets (hash, key_id, created_at, expires_at) VALUES (?, ?, ?, NULL)", newHash, keyId, now);
  sql.exec("UPDATE keys SET rotated_at = ? WHERE id = ?", now, keyId);
}

/** Marks the key revoked (once; a second revoke keeps the first time). */
export function revokeKey(sql: Sql, keyId: string, now: number): void {
  sql.exec("UPDATE keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", now, keyId);
}
