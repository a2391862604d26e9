/**
 * Keys made before the key store was sharded live in its one former object, the `KeyStore`
 * instance named `global`. Each shard takes its own from there once, the first time it wakes,
 * before it answers anything (`KeyStore`'s constructor): so an upgraded deployment keeps every
 * key, secret hash, revocation and rotation overlap it had, and a new deployment pays one call to
 * an empty object per shard, once. The former object is only read; what it holds is copied, so a
 * hand-over cut short is simply made again at the shard's next wake.
 * @module
 */
import type { Sql } from "../sql/migrations.js";
import { shardIndex } from "../sharding/shard-index.js";
import { KEY_SHARDS } from "./key-shards.js";

/** The name of the key store's object before it was sharded. */
export const LEGACY_KEY_STORE_NAME = "global";

/** Marks, in the shard's synchronous KV, that the hand-over is done. */
const ADOPTED = "legacy-keys-adopted";

/** Rows as the tables hold them: a shard stores them as they are. */
export interface LegacyKeys {
  keys: Record<string, SqlStorageValue>[];
  secrets: Record<string, SqlStorageValue>[];
}

/** The shard index in a shard's object name (`shard-<n>`), or null for any other name. */
export function shardOfName(name: string | undefined): number | null {
  const match = /^shard-(\d+)$/.exec(name ?? "");
  return match ? Number(match[1]) : null;
}

/** Run in the former object: its keys (and their secrets' hashes) that belong in `shard`. */
export function legacyKeysFor(sql: Sql, shard: number): LegacyKeys {
  const keys = sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM keys").toArray();
  const mine = keys.filter((k) => shardIndex(String(k.id), KEY_SHARDS) === shard);
  const ids = new Set(mine.map((k) => String(k.id)));
  const secrets = sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM key_secrets").toArray();
  return { keys: mine.map(({ seq: _seq, ...k }) => k), secrets: secrets.filter((s) => ids.has(String(s.key_id))) };
}

/** True when this shard already took its keys from the former object. */
export function adoptedLegacyKeys(kv: SyncKvStorage): boolean {
  return kv.get(ADOPTED) === true;
}

/** Run in a shard: stores what the former object handed over (keeping anything already here), in one transaction. */
export function adoptLegacyKeys(storage: DurableObjectStorage, handed: LegacyKeys): void {
  storage.transactionSync(() => {
    for (const row of handed.keys) insertRow(storage.sql, "keys", row);
    for (const row of handed.secrets) insertRow(storage.sql, "key_secrets", row);
    storage.kv.put(ADOPTED, true);
  });
}

function insertRow(sql: SqlStorage, table: "keys" | "key_secrets", row: Record<string, SqlStorageValue>): void {
  const columns = Object.keys(row);
  if (!columns.every((c) => /^[a-z_]+$/.test(c))) throw new Error(`unexpected column in the former key store's ${table}`);
  sql.exec(`INSERT OR IGNORE INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`, ...columns.map((c) => row[c]!));
}
