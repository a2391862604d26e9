/**
 * Where a key lives: in one of `KEY_SHARDS` `KeyStore` objects, picked by its key id's hash.
 * The id is inside every key a client sends (`cf_<key id>_<secret>`), so a lookup goes straight
 * to the one shard that has it, and a key's record and all its secrets' hashes sit together:
 * create, rotate and revoke stay one object's transaction, as before sharding.
 * @module
 */
import type { Env } from "../env.js";
import { shardIndex } from "../sharding/shard-index.js";

/**
 * Shards keys are spread over. Lookups reach a shard only when a key misses an isolate's cache
 * (once per key per isolate every 5 s), so sixteen spread them far below one object's limit
 * while an admin list reads sixteen small pages. Never change it for a deployment that has
 * keys: a key is found only in the shard its id hashed to when it was made.
 */
export const KEY_SHARDS = 16;

/** The key id inside a presented key (`cf_<key id>_<secret>`), or null when it has none. */
export function keyIdOfToken(token: string): string | null {
  return /^cf_(key_[0-9a-hjkmnp-tv-z]{16})_/.exec(token)?.[1] ?? null;
}

/** The shard that holds key `keyId`. */
export function keyStoreOf(env: Env, keyId: string) {
  return keyShard(env, shardIndex(keyId, KEY_SHARDS));
}

/** Shard `index` (0 ≤ index < `KEY_SHARDS`). */
export function keyShard(env: Env, index: number) {
  return env.KEYS.get(env.KEYS.idFromName(`shard-${index}`));
}
